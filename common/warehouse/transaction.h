// Transaction: one transaction on a warehouse connection, rolled back unless committed.
//
//   LOADSTAR_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(wh));
//   LOADSTAR_RETURN_IF_ERROR(wh->ExecFile(...));   // an early return rolls back
//   return tx.Commit();
//
// Whatever path leaves the scope (an error returned, an exception), the transaction does not stay
// open on the connection, and the error that made the caller leave is the one it reports.
#pragma once

#include "common/core/status.h"
#include "common/warehouse/warehouse.h"

namespace loadstar {

class [[nodiscard]] Transaction {
 public:
  // Begins a transaction on `wh` (which must outlive it and have none open).
  static Result<Transaction> Begin(Warehouse* wh);

  Transaction(Transaction&& other) noexcept : wh_(other.wh_), open_(other.open_) { other.open_ = false; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // Rolls back, unless Commit() or Rollback() was called; a failure to roll back is not reported
  // (the connection then has no transaction the caller could use anyway).
  ~Transaction();

  // Commits. The transaction is over whether or not it succeeds: a failed COMMIT (including one
  // that rolled back because an earlier statement failed) is reported, and nothing is committed.
  Status Commit();
  // Rolls back now, for a caller that wants to hear whether that worked.
  Status Rollback();

  bool open() const { return open_; }

 private:
  explicit Transaction(Warehouse* wh) : wh_(wh), open_(true) {}

  Warehouse* wh_;
  bool open_;
};

}  // namespace loadstar
