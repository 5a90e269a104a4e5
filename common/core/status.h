// Status and Result<T>: how every fallible operation in loadstar reports failure.
//
// A Status is cheap on success (no allocation). Error categories are policy: whether an error is
// worth retrying is decided here, in IsRetryable(), and nowhere else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace loadstar {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong; retrying will not help
  kNotFound,           // a bucket, key, file, run or table does not exist
  kPermissionDenied,   // credentials rejected or access refused
  kUnavailable,        // a transient fault: 5xx, throttling, reset, timeout; retry with backoff
  kFailedPrecondition, // the system is not in a state where this can run
  kDataLoss,           // bytes were truncated or corrupt in transit
  kParse,              // input data could not be parsed
  kCancelled,          // stopped on purpose (signal, shutdown)
  kInternal,           // a bug or an invariant broken
  kResourceExhausted,  // the server ran out of memory, disk or another resource; not retried
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) { return {StatusCode::kPermissionDenied, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status FailedPrecondition(std::string msg) { return {StatusCode::kFailedPrecondition, std::move(msg)}; }
  static Status DataLoss(std::string msg) { return {StatusCode::kDataLoss, std::move(msg)}; }
  static Status Parse(std::string msg) { return {StatusCode::kParse, std::move(msg)}; }
  static Status Cancelled(std::string msg) { return {StatusCode::kCancelled, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "Unavailable: GET s3://b/k: HTTP 503 SlowDown" or "OK".
  std::string ToString() const;
  // The same error with context put in front: "listing s3://b/p/: <message>".
  Status WithContext(std::string_view context) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null means OK; shared so copies are cheap
};

// The one place that says which failures are worth another attempt.
bool IsRetryable(StatusCode code);
inline bool IsRetryable(const Status& s) { return !s.ok() && IsRetryable(s.code()); }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace loadstar

#define LOADSTAR_CONCAT_INNER(a, b) a##b
#define LOADSTAR_CONCAT(a, b) LOADSTAR_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define LOADSTAR_RETURN_IF_ERROR(expr)                    \
  do {                                                    \
    ::loadstar::Status loadstar_status_ = (expr);         \
    if (!loadstar_status_.ok()) return loadstar_status_;  \
  } while (0)

// `lhs = value of expr`, or return its Status from the enclosing function.
#define LOADSTAR_ASSIGN_OR_RETURN(lhs, expr) \
  LOADSTAR_ASSIGN_OR_RETURN_IMPL(LOADSTAR_CONCAT(loadstar_result_, __LINE__), lhs, expr)
#define LOADSTAR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
