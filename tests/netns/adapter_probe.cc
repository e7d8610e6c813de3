// adapter_probe: drives the kernel adapters from the netns tests (kernel_adapters_test.sh).
//
//   adapter_probe [--table T] [--mark M] [--timeout MS] install | remove | describe
//   adapter_probe [options] admit SRC DST DPORT [NATADDR NATPORT [SRCNAT]]
//                                                          prints admit_us=<n>
//   adapter_probe [options] bench COUNT     admits COUNT pinholes, prints latency figures
//   adapter_probe resolve CLIENT CPORT SERVER SPORT                 prints the NAT binding
//   adapter_probe liberal CLIENT CPORT SERVER SPORT                 sets and checks LIBERAL
// Exit status: 0 ok, 1 adapter error (message on stderr), 2 usage, 3 resolve found no NAT.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/types.h"
#include "ftpalg/kernel/conntrack.h"
#include "ftpalg/kernel/pinhole.h"

namespace {

using ftpalg::core::Endpoint;
using ftpalg::core::IpAddr;

int usage() {
  std::fputs(
      "usage: adapter_probe [--table T] [--mark M] [--timeout MS] "
      "install|remove|describe|admit|bench|resolve|liberal ...\n",
      stderr);
  return 2;
}

template <typename T>
bool parseNumber(std::string_view s, T& out, int base = 10) {
  if (base == 16 && (s.starts_with("0x") || s.starts_with("0X"))) {
    s.remove_prefix(2);
  }
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parseEndpoint(std::string_view addr, std::string_view port, Endpoint& out) {
  return ftpalg::core::parseIp(addr, out.addr) && parseNumber(port, out.port);
}

std::string text(const IpAddr& a) {
  char buf[64];
  return std::string(buf, ftpalg::core::formatIp(a, buf));
}

int fail(const ftpalg::Status& s) {
  std::fprintf(stderr, "adapter_probe: %s\n", s.message().c_str());
  return 1;
}

int bench(ftpalg::kernel::PinholeTable& table, uint32_t count) {
  std::vector<double> us;
  us.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ftpalg::core::Expectation x;
    x.src.addr = IpAddr::v4(198, 18, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i));
    x.dst.addr = IpAddr::v4(198, 19, 0, 1);
    x.dst.port = static_cast<uint16_t>(1024 + i % 60000);
    // Every other admission also steers through the NAT map (two elements, one batch).
    x.natTo = x.dst;
    if (i % 2 == 1) {
      x.natTo.addr = IpAddr::v4(198, 19, 0, 2);
    }
    const auto t0 = std::chrono::steady_clock::now();
    if (auto s = table.admit(x); !s.ok()) {
      return fail(s);
    }
    const auto t1 = std::chrono::steady_clock::now();
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  };
  std::printf("count=%u min_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n", count,
              us.front(), at(0.5), at(0.9), at(0.99), us.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  ftpalg::kernel::PinholeConfig cfg;
  size_t i = 0;
  for (; i + 1 < args.size() && args[i].starts_with("--"); i += 2) {
    if (args[i] == "--table") {
      cfg.table = std::string(args[i + 1]);
    } else if (args[i] == "--mark") {
      if (!parseNumber(args[i + 1], cfg.ctMark, 16)) return usage();
    } else if (args[i] == "--timeout") {
      if (!parseNumber(args[i + 1], cfg.timeoutMs)) return usage();
    } else {
      return usage();
    }
  }
  if (i >= args.size()) return usage();
  const std::string_view cmd = args[i];
  const std::vector<std::string_view> rest(args.begin() + static_cast<std::ptrdiff_t>(i + 1),
                                           args.end());

  if (cmd == "install" || cmd == "remove" || cmd == "describe") {
    ftpalg::kernel::PinholeTable table(cfg);
    if (cmd == "describe") {
      std::fputs(table.describe().c_str(), stdout);
      return 0;
    }
    const auto s = cmd == "install" ? table.install() : table.remove();
    return s.ok() ? 0 : fail(s);
  }
  if (cmd == "admit") {
    if (rest.size() != 3 && rest.size() != 5 && rest.size() != 6) return usage();
    ftpalg::core::Expectation x;
    if (!ftpalg::core::parseIp(rest[0], x.src.addr) || !parseEndpoint(rest[1], rest[2], x.dst)) {
      return usage();
    }
    x.natTo = x.dst;
    if (rest.size() >= 5 && !parseEndpoint(rest[3], rest[4], x.natTo)) return usage();
    if (rest.size() == 6) {
      x.hasSrcNat = true;
      if (!ftpalg::core::parseIp(rest[5], x.srcNatTo)) return usage();
    }
    ftpalg::kernel::PinholeTable table(cfg);
    const auto t0 = std::chrono::steady_clock::now();
    if (auto s = table.admit(x); !s.ok()) return fail(s);
    const auto t1 = std::chrono::steady_clock::now();
    std::printf("admit_us=%.1f\n", std::chrono::duration<double, std::micro>(t1 - t0).count());
    return 0;
  }
  if (cmd == "bench") {
    uint32_t count = 0;
    if (rest.size() != 1 || !parseNumber(rest[0], count) || count == 0) return usage();
    ftpalg::kernel::PinholeTable table(cfg);
    return bench(table, count);
  }
  if (cmd == "resolve" || cmd == "liberal") {
    ftpalg::core::FlowKey flow;
    if (rest.size() != 4 || !parseEndpoint(rest[0], rest[1], flow.client) ||
        !parseEndpoint(rest[2], rest[3], flow.server)) {
      return usage();
    }
    ftpalg::kernel::Conntrack ct;
    if (auto s = ct.open(); !s.ok()) return fail(s);
    if (cmd == "liberal") {
      if (auto s = ct.setLiberal({flow.client, flow.server}); !s.ok()) return fail(s);
      std::puts("liberal=ok");
      return 0;
    }
    ftpalg::core::NatBinding b;
    // Only the flow is known here, not the address the client dialled: the table scan.
    const bool nat = ct.scanNat(flow, b).outcome == ftpalg::kernel::NatLookup::Natted;
    if (!nat) {
      std::puts("nat=0");
      return 3;
    }
    std::printf("nat=1 clientInside=%s clientOutside=%s serverInside=%s serverOutside=%s\n",
                text(b.clientInside).c_str(), text(b.clientOutside).c_str(),
                text(b.serverInside).c_str(), text(b.serverOutside).c_str());
    return 0;
  }
  return usage();
}
