// Status and Result<T>: the one error type of every layer outside the packet-path core. A
// value, never an exception: ok, or a code from a small closed set with an errno (0 when the
// failure is not a system call's) and a one-line context for the person reading the log.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ftpalg {

// Why an operation failed. Closed set: callers switch on it, logs print the message.
enum class StatusCode : unsigned char {
  Ok,
  Invalid,      // bad input from a person or a file (option, config key, capture record)
  System,       // a system call or kernel request failed; errno says how
  Unavailable,  // the kernel or a file lacks what is needed (a module, a table, a feature)
};

// Ok, or a code, an errno and a one-line context ("nft: add element to pin4").
class [[nodiscard]] Status {
 public:
  Status() = default;
  // A failure of a system call or kernel request: message() is "what: strerror(err)".
  static Status error(int err, std::string what) {
    return Status(StatusCode::System, err, std::move(what));
  }
  // A failure without an errno: message() is the text itself (no trailing newline, no
  // "error:" prefix).
  static Status error(std::string message) {
    return Status(StatusCode::Invalid, 0, std::move(message));
  }
  static Status unavailable(std::string message) {
    return Status(StatusCode::Unavailable, 0, std::move(message));
  }

  [[nodiscard]] bool ok() const { return code_ == StatusCode::Ok; }
  [[nodiscard]] StatusCode code() const { return code_; }
  [[nodiscard]] int err() const { return err_; }
  [[nodiscard]] const std::string& what() const { return what_; }
  // The context, followed by ": strerror(err)" when there is an errno.
  [[nodiscard]] std::string message() const {
    if (err_ == 0) return ok() && what_.empty() ? std::string("ok") : what_;
    std::string out = what_;
    out += ": ";
    out += std::strerror(err_);
    return out;
  }

 private:
  Status(StatusCode code, int err, std::string what)
      : code_(code), err_(err), what_(std::move(what)) {}

  StatusCode code_ = StatusCode::Ok;
  int err_ = 0;
  std::string what_;
};

// A value, or the Status that says why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return value_.has_value(); }
  [[nodiscard]] const Status& status() const { return status_; }
  [[nodiscard]] T& value() { return *value_; }
  [[nodiscard]] const T& value() const { return *value_; }
  [[nodiscard]] T* operator->() { return &*value_; }
  [[nodiscard]] const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

// A library message without a leading "<path>: " (libpcap repeats the file name), so that
// "cannot read x.pcap: " + message names the file once.
inline std::string_view withoutPathPrefix(std::string_view message, std::string_view path) {
  if (message.starts_with(path) && message.substr(path.size()).starts_with(": ")) {
    message.remove_prefix(path.size() + 2);
  }
  return message;
}

}  // namespace ftpalg
