// Status and Result: every failure in glint is a value, never an exception
// crossing a module boundary and never an abort.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace glint {

enum class StatusCode {
  kOk = 0,
  kInvalidModel,     // the bytes are not a usable ONNX model
  kInvalidArgument,  // bad feed, option or attribute
  kUnsupported,      // op / opset / dtype that no kernel handles
  kInternal,         // a bug or an unexpected platform failure
  kGlError,          // GL / EGL refused something
  kIoError,          // file could not be read or written
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prefixes context ("node 'conv1' (Conv): ") so errors read outside-in.
  Status with_context(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_model(std::string m) { return Status(StatusCode::kInvalidModel, std::move(m)); }
inline Status invalid_argument(std::string m) { return Status(StatusCode::kInvalidArgument, std::move(m)); }
inline Status unsupported(std::string m) { return Status(StatusCode::kUnsupported, std::move(m)); }
inline Status internal_error(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }
inline Status gl_error(std::string m) { return Status(StatusCode::kGlError, std::move(m)); }
inline Status io_error(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace glint

#define GLINT_CONCAT_INNER(a, b) a##b
#define GLINT_CONCAT(a, b) GLINT_CONCAT_INNER(a, b)

// Returns early from the enclosing function when `expr` (a Status) fails.
#define GLINT_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::glint::Status glint_status_ = (expr);        \
    if (!glint_status_.ok()) return glint_status_; \
  } while (0)

// `GLINT_ASSIGN_OR_RETURN(auto x, make_x());`
#define GLINT_ASSIGN_OR_RETURN(lhs, expr) \
  GLINT_ASSIGN_OR_RETURN_IMPL(GLINT_CONCAT(glint_result_, __LINE__), lhs, expr)
#define GLINT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
