// What each SQLSTATE class becomes, and whether it is retried: a change to either is a change of
// behaviour a worker or coordinator sees (a retried task, an exit code), so each is pinned here.
#include "common/warehouse/sql_state.h"

#include <gtest/gtest.h>

#include <string>

namespace loadstar {
namespace {

struct Case {
  const char* sqlstate;
  StatusCode code;
  bool retried;
};

TEST(SqlStateTest, EveryClassMapsToItsCodeAndIsRetriedOnlyWhenTransient) {
  const Case cases[] = {
      {"08006", StatusCode::kUnavailable, true},         // connection failure
      {"08001", StatusCode::kUnavailable, true},         // cannot establish a connection
      {"40001", StatusCode::kUnavailable, true},         // serialization failure
      {"40P01", StatusCode::kUnavailable, true},         // deadlock detected
      {"40002", StatusCode::kFailedPrecondition, false}, // other transaction rollback
      {"57P01", StatusCode::kUnavailable, true},         // admin shutdown
      {"57P02", StatusCode::kUnavailable, true},         // crash shutdown
      {"57P03", StatusCode::kUnavailable, true},         // cannot connect now
      {"53300", StatusCode::kUnavailable, true},         // too many connections
      {"57014", StatusCode::kCancelled, false},          // query canceled
      {"28P01", StatusCode::kPermissionDenied, false},   // invalid password
      {"28000", StatusCode::kPermissionDenied, false},   // invalid authorization
      {"42501", StatusCode::kPermissionDenied, false},   // insufficient privilege
      {"42P01", StatusCode::kNotFound, false},           // undefined table
      {"3F000", StatusCode::kNotFound, false},           // undefined schema
      {"3D000", StatusCode::kNotFound, false},           // undefined database
      {"42601", StatusCode::kInternal, false},           // syntax error
      {"42703", StatusCode::kInternal, false},           // undefined column
      {"XX000", StatusCode::kInternal, false},           // internal error of the server
      {"23505", StatusCode::kFailedPrecondition, false}, // unique violation
      {"23503", StatusCode::kFailedPrecondition, false}, // foreign key violation
      {"22003", StatusCode::kInvalidArgument, false},    // numeric value out of range
      {"22P02", StatusCode::kInvalidArgument, false},    // invalid text representation
      {"53100", StatusCode::kResourceExhausted, false},  // disk full
      {"53200", StatusCode::kResourceExhausted, false},  // out of memory
      {"25P02", StatusCode::kFailedPrecondition, false}, // in failed transaction
      {"25006", StatusCode::kFailedPrecondition, false}, // read-only transaction
      {"P0001", StatusCode::kFailedPrecondition, false}, // raise exception
      {"", StatusCode::kFailedPrecondition, false},      // no SQLSTATE at all
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string("SQLSTATE ") + c.sqlstate);
    const StatusCode code = CodeForSqlState(c.sqlstate);
    EXPECT_EQ(code, c.code) << StatusCodeName(code);
    EXPECT_EQ(IsRetryable(code), c.retried);
  }
}

}  // namespace
}  // namespace loadstar
