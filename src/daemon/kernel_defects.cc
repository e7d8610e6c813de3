#include "daemon/kernel_defects.h"

#include <sys/utsname.h>

#include <array>
#include <cctype>

namespace ftpalg::daemon {
namespace {

// The X.Y[.Z] at the start of `s`.
std::string leadingVersion(std::string_view s) {
  size_t n = 0;
  int dots = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) != 0 ||
                          (s[n] == '.' && dots < 2 && n > 0 && s[n - 1] != '.'))) {
    if (s[n] == '.') ++dots;
    ++n;
  }
  if (n > 0 && s[n - 1] == '.') --n;
  const std::string_view v = s.substr(0, n);
  return v.find('.') == std::string_view::npos ? std::string() : std::string(v);
}

struct Defect {
  std::string_view version;
  std::string_view note;
};
// Measured in the qemu lane on Debian's packages (tests/qemu, 10-cthelper and 20-nat-matrix).
constexpr std::array kDefects{
    Defect{"6.1.170",
           "data connections created from expectations inherit the control connection's "
           "helper (even when the expectation names another), so in expectation mode every "
           "data packet is queued to ftpalgd (Debian linux-image-6.1.0-47); --kernel-mode "
           "auto uses pinhole mode on this kernel"},
};

}  // namespace

KernelId runningKernel() {
  utsname u{};
  if (uname(&u) != 0) return {};
  return {u.release, u.version};
}

std::string upstreamVersion(const KernelId& k) {
  const size_t at = k.version.find("Debian ");
  if (at != std::string::npos) {
    std::string v = leadingVersion(std::string_view(k.version).substr(at + 7));
    if (!v.empty()) return v;
  }
  return leadingVersion(k.release);
}

std::string expectationModeDefect(std::string_view v) {
  for (const Defect& d : kDefects) {
    if (d.version == v) return std::string(d.note);
  }
  return {};
}

}  // namespace ftpalg::daemon
