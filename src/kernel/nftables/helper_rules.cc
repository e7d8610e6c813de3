// The helper rule table: its text, and install/remove as nf_tables transactions.
#include "ftpalg/kernel/helper_rules.h"

#include <fmt/format.h>
#include <linux/netfilter.h>

#include <array>
#include <cerrno>
#include <vector>

#include "kernel/nftables/helper_rule_messages.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_socket.h"
#include "kernel/nftables/rule_parts.h"

namespace ftpalg::kernel {
namespace {

constexpr size_t kBatchBytes = 32 * 1024;

}  // namespace

std::string helperRulesText(const HelperRuleSpec& spec) {
  std::string ports = fmt::format("{}", spec.ports.front());
  if (spec.ports.size() > 1) ports = fmt::format("{{ {} }}", fmt::join(spec.ports, ", "));
  return fmt::format(
      "# expectation mode: ftpalgd is the userspace conntrack helper \"{0}\" (nfnetlink_cthelper)\n"
      "table inet {1} {{\n"
      "\tct helper {2} {{\n"
      "\t\ttype \"{0}\" protocol tcp;\n"
      "\t}}\n"
      "\tchain pre {{\n"
      "\t\ttype filter hook prerouting priority {4}; policy accept;   # before dstnat\n"
      "\t\ttcp dport {3} ct state new ct helper set \"{2}\"\n"
      "\t}}\n"
      "}}\n"
      "# your forward chain (policy drop) needs, before its drop rules:\n"
      "#\tct state established accept\n"
      "#\tct state related accept          # data connections ftpalgd expected\n"
      "#\ttcp dport {3} ct state new accept\n",
      spec.helper, kHelperTable, kHelperObject, ports, kHelperChainPriority);
}

Status installHelperRules(const HelperRuleSpec& spec) {
  // One transaction replaces a stale table (a predecessor's, kept over its stop): a new
  // control connection arriving during a restart never finds the hook without its rule.
  constexpr const char* kWhat = "nft: replace table inet ftpalg_helper";
  nft::NftSocket sock;
  if (Status s = sock.open(); !s.ok()) return s;
  std::vector<char> buf(kBatchBytes);
  nft::NftBatch batch(buf, sock.reserveSeq(nft::NftBatch::kMaxMessages));
  if (!nft::appendReplaceHelperRules(batch, spec, kWhat) || !batch.finish()) {
    return Status::error(EMSGSIZE, kWhat);
  }
  return sock.commit(batch);
}

Status removeHelperRules() {
  constexpr const char* kWhat = "nft: delete table inet ftpalg_helper";
  nft::NftSocket sock;
  if (Status s = sock.open(); !s.ok()) return s;
  std::array<char, 4096> buf{};
  nft::NftBatch batch(buf, sock.reserveSeq(1));
  if (!nft::appendDeleteTable(batch, kHelperTable, NFPROTO_INET, kWhat) || !batch.finish()) {
    return Status::error(EMSGSIZE, kWhat);
  }
  return sock.commit(batch, ENOENT);
}

}  // namespace ftpalg::kernel
