// Result of a kernel adapter call: errno plus context, never an exception on the packet path.
#pragma once

#include <string>
#include <utility>

namespace ftpalg::kernel {

// Success, or an errno value with a one-line context ("nft: add element to pin4").
class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status error(int err, std::string what) { return Status(err, std::move(what)); }
  [[nodiscard]] bool ok() const { return err_ == 0; }
  [[nodiscard]] int err() const { return err_; }
  [[nodiscard]] const std::string& what() const { return what_; }
  // "what: strerror(err)"
  [[nodiscard]] std::string message() const;

 private:
  Status(int err, std::string what) : err_(err), what_(std::move(what)) {}
  int err_ = 0;
  std::string what_;
};

}  // namespace ftpalg::kernel
