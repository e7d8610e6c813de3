// Status: the result of an adapter operation in the CLI (capture I/O, option parsing, replay).
// Either ok, or a one-line message for the user (no trailing newline, no "error:" prefix).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace ftpalg::cli {

// Ok, or a one-line, user-facing error message.
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status error(std::string message) { return Status(std::move(message)); }

  [[nodiscard]] bool ok() const { return !failed_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}

  bool failed_ = false;
  std::string message_;
};

// A library message without a leading "<path>: " (libpcap repeats the file name), so that
// "cannot read x.pcap: " + message names the file once.
inline std::string_view withoutPathPrefix(std::string_view message, std::string_view path) {
  if (message.starts_with(path) && message.substr(path.size()).starts_with(": ")) {
    message.remove_prefix(path.size() + 2);
  }
  return message;
}

}  // namespace ftpalg::cli
