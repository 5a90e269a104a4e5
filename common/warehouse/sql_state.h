// What a PostgreSQL error means to loadstar, decided from its SQLSTATE alone.
//
// The class (the first two characters) says who is at fault, and so what the caller can do:
//   08 connection exception, 40001 serialization failure, 40P01 deadlock, 57P01-03 server
//      shutting down or starting, 53300 too many connections   -> Unavailable (retried)
//   57014 query cancelled (a cancel request or a statement timeout)  -> Cancelled
//   28 invalid authorization, 42501 insufficient privilege        -> PermissionDenied
//   42P01 undefined table, 3F000 undefined schema, 3D000 undefined database -> NotFound
//   other 42 (syntax error, undefined column, ...): a statement loadstar sent is wrong -> Internal
//   XX internal error of the server                               -> Internal
//   22 data exception (a value the column cannot hold)            -> InvalidArgument
//   53 other insufficient resources (disk full, out of memory)    -> ResourceExhausted
//   23 integrity constraint violation, 25 invalid transaction state, anything else
//                                                                 -> FailedPrecondition
// Whether a code is retried is IsRetryable()'s business (common/core/status.h): of these, only
// Unavailable is.
#pragma once

#include <string_view>

#include "common/core/status.h"

namespace loadstar {

// The StatusCode for an error with SQLSTATE `sqlstate` (five characters; empty when the server
// sent none, which is FailedPrecondition). A lost connection is Unavailable whatever its
// SQLSTATE; the caller checks that first.
StatusCode CodeForSqlState(std::string_view sqlstate);

}  // namespace loadstar
