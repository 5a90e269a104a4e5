#include "common/core/status.h"

namespace loadstar {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "Invalid argument";
    case StatusCode::kNotFound: return "Not found";
    case StatusCode::kPermissionDenied: return "Permission denied";
    case StatusCode::kUnavailable: return "Unavailable";
    case StatusCode::kFailedPrecondition: return "Failed precondition";
    case StatusCode::kDataLoss: return "Data loss";
    case StatusCode::kParse: return "Parse error";
    case StatusCode::kCancelled: return "Cancelled";
    case StatusCode::kInternal: return "Internal error";
    case StatusCode::kResourceExhausted: return "Resource exhausted";
  }
  return "Unknown";
}

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) state_ = std::make_shared<const State>(State{code, std::move(message)});
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code()));
  out += ": ";
  out += message();
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message();
  return Status(code(), std::move(msg));
}

bool IsRetryable(StatusCode code) {
  // Transient faults and truncated transfers are worth another attempt; everything else
  // (bad input, missing objects, refused credentials, bugs) will fail the same way again.
  return code == StatusCode::kUnavailable || code == StatusCode::kDataLoss;
}

}  // namespace loadstar
