#include "common/warehouse/transaction.h"

namespace loadstar {

Result<Transaction> Transaction::Begin(Warehouse* wh) {
  if (wh->in_transaction()) return Status::Internal("a transaction is already open on this connection");
  LOADSTAR_RETURN_IF_ERROR(wh->Begin());
  return Transaction(wh);
}

Transaction::~Transaction() {
  if (open_) (void)wh_->Rollback();
}

Status Transaction::Commit() {
  if (!open_) return Status::Internal("COMMIT of a transaction that is already over");
  open_ = false;
  Status s = wh_->Commit();
  // A COMMIT that failed on the server ended the transaction there; one that never reached it
  // (the connection broke) leaves nothing to end. Either way nothing stays open.
  if (!s.ok()) (void)wh_->Rollback();
  return s;
}

Status Transaction::Rollback() {
  if (!open_) return Status::Ok();
  open_ = false;
  return wh_->Rollback();
}

}  // namespace loadstar
