#include "ftpalg/kernel/status.h"

#include <cstring>

namespace ftpalg::kernel {

std::string Status::message() const {
  if (err_ == 0) {
    return what_.empty() ? std::string("ok") : what_;
  }
  std::string out = what_;
  out += ": ";
  out += std::strerror(err_);
  return out;
}

}  // namespace ftpalg::kernel
