#include "kernel/nftables/rules_text.h"

#include <fmt/format.h>

#include <cstdint>

namespace ftpalg::kernel {
namespace {

struct Family {
  const char* proto;     // ip / ip6
  const char* addrType;  // ipv4_addr / ipv6_addr
  const char* suffix;    // 4 / 6
};

constexpr Family kFamilies[] = {{"ip", "ipv4_addr", "4"}, {"ip6", "ipv6_addr", "6"}};

}  // namespace

std::string pinholeTableText(const PinholeConfig& cfg) {
  std::string out = fmt::format("table inet {} {{\n", cfg.table);
  // Same order as install() creates them, so that the text equals `nft list table`.
  for (const Family& f : kFamilies) {
    out += fmt::format(
        "\tset pin{0} {{\n"
        "\t\ttype {1} . {1} . inet_service\n"
        "\t\tsize 65535\n"
        "\t\tflags dynamic,timeout\n"
        "\t}}\n\n"
        "\tmap nat{0} {{\n"
        "\t\ttype {1} . {1} . inet_service : {1} . inet_service\n"
        "\t\tsize 65535\n"
        "\t\tflags timeout\n"
        "\t}}\n\n"
        "\tmap snat{0} {{\n"
        "\t\ttype {1} . {1} . inet_service : {1}\n"
        "\t\tsize 65535\n"
        "\t\tflags timeout\n"
        "\t}}\n\n",
        f.suffix, f.addrType);
  }
  for (const Family& f : kFamilies) {
    out += fmt::format(
        "\tset natuse{0} {{\n"
        "\t\ttype {1} . {1} . inet_service\n"
        "\t\tsize 65535\n"
        "\t\tflags dynamic,timeout\n"
        "\t}}\n\n",
        f.suffix, f.addrType);
  }
  out += "\tchain pre {\n\t\ttype nat hook prerouting priority dstnat - 5; policy accept;\n";
  // Single use of the NAT map elements: only the first new connection of a key is steered.
  for (const Family& f : kFamilies) {
    out += fmt::format(
        "\t\t{0} saddr . {0} daddr . tcp dport != @natuse{1} accept\n"
        "\t\t{0} saddr . {0} daddr . tcp dport @natuse{1} delete @natuse{1} {{ {0} saddr . {0} "
        "daddr . tcp dport }}\n",
        f.proto, f.suffix);
  }
  for (const Family& f : kFamilies) {
    out += fmt::format("\t\tdnat {0} to {0} saddr . {0} daddr . tcp dport map @nat{1}\n", f.proto,
                       f.suffix);
  }
  out += "\t}\n\n";
  out += "\tchain pin {\n\t\ttype filter hook forward priority filter - 5; policy accept;\n";
  for (const Family& f : kFamilies) {
    out += fmt::format(
        "\t\tct state new {0} saddr . {0} daddr . tcp dport @pin{1} delete @pin{1} {{ {0} saddr "
        ". {0} daddr . tcp dport }} ct mark set {2:#010x} counter accept\n",
        f.proto, f.suffix, cfg.ctMark);
  }
  // conntrack_state: a rule that changes no label but makes the kernel allocate them.
  if (cfg.ctLabels) out += "\t\tct state new meta l4proto tcp ct label set 0\n";
  out += "\t}\n\n";
  out += "\tchain post {\n\t\ttype nat hook postrouting priority srcnat - 5; policy accept;\n";
  for (const Family& f : kFamilies) {
    out += fmt::format(
        "\t\tmeta l4proto tcp snat {0} to {0} saddr . ct original {0} daddr . ct original "
        "proto-dst map @snat{1}\n",
        f.proto, f.suffix);
  }
  out += "\t}\n}\n";
  return out;
}

std::string rulesText(const PinholeConfig& cfg) {
  std::string out = fmt::format(
      "# ftpalg pinhole mode. ftpalgd creates this table itself when it starts and deletes it\n"
      "# when it stops; it is shown here for review. Elements live {} ms and admit one\n"
      "# connection each.\n",
      cfg.timeoutMs);
  out += pinholeTableText(cfg);
  out += fmt::format(
      "\n# Add to your own forward chain, before its drop rules, to admit the data connections\n"
      "# ftpalg marked (established traffic is usually accepted already):\n"
      "#\tct state established,related accept\n"
      "#\tct mark {0:#010x} accept\n"
      "# For example:\n"
      "#\tnft add rule inet filter forward ct mark {0:#010x} accept\n",
      cfg.ctMark);
  return out;
}

}  // namespace ftpalg::kernel
