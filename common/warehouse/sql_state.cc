#include "common/warehouse/sql_state.h"

namespace loadstar {

StatusCode CodeForSqlState(std::string_view state) {
  const std::string_view cls = state.substr(0, 2);
  // Transient: the transaction may succeed if tried again on a fresh connection.
  if (cls == "08") return StatusCode::kUnavailable;  // connection exception
  if (state == "40001" || state == "40P01") return StatusCode::kUnavailable;  // serialization failure, deadlock
  if (state == "57P01" || state == "57P02" || state == "57P03") {
    return StatusCode::kUnavailable;  // admin shutdown, crash shutdown, cannot connect now
  }
  if (state == "53300") return StatusCode::kUnavailable;  // too many connections
  if (state == "57014") return StatusCode::kCancelled;    // query_canceled
  if (cls == "28" || state == "42501") return StatusCode::kPermissionDenied;
  if (state == "42P01" || state == "3F000" || state == "3D000") return StatusCode::kNotFound;
  if (cls == "42" || cls == "XX") return StatusCode::kInternal;
  if (cls == "22") return StatusCode::kInvalidArgument;
  if (cls == "53") return StatusCode::kResourceExhausted;
  return StatusCode::kFailedPrecondition;  // 23 integrity, 25 transaction state, and the rest
}

}  // namespace loadstar
