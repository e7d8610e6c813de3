// QueueRules: install/remove as nf_tables transactions, each on a netlink socket of its own.
#include "ftpalg/kernel/queue_rules.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_socket.h"
#include "kernel/nftables/queue_rule_messages.h"
#include "kernel/nftables/rule_parts.h"

namespace ftpalg::kernel {
namespace {

constexpr size_t kBatchBytes = 256 * 1024;  // 132 rule messages in half of it (nft_batch.h)

// delete table `family` ftpalg_queue, in a transaction of its own: an absent table is fine.
Status deleteQueueTable(uint16_t family) {
  const std::string what =
      fmt::format("nft: delete table {} {}", nft::familyName(family), kQueueTable);
  nft::NftSocket sock;
  if (Status s = sock.open(); !s.ok()) return s;
  std::array<char, 4096> buf{};
  nft::NftBatch batch(buf, sock.reserveSeq(1));
  if (!nft::appendDeleteTable(batch, kQueueTable, family, what) || !batch.finish()) {
    return Status::error(EMSGSIZE, what);
  }
  return sock.commit(batch, ENOENT);
}

}  // namespace

Status QueueRules::remove() {
  // One batch per family: a batch is all or nothing, and any of the tables may be absent (the
  // other form's tables are removed too: a stale one from a run on another kernel or version).
  Status result;
  for (uint16_t family : nft::allQueueFamilies()) {
    Status s = deleteQueueTable(family);
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

Status QueueRules::install() {
  if (Status s = remove(); !s.ok()) return s;
  const char* what = form_ == QueueForm::Nft ? "nft: add queue rules" : "nft: add NFQUEUE rules";
  nft::NftSocket sock;
  if (Status s = sock.open(); !s.ok()) return s;
  std::vector<char> buf(kBatchBytes);
  nft::NftBatch batch(buf, sock.reserveSeq(nft::NftBatch::kMaxMessages));
  if (!nft::appendQueueRules(batch, spec_, form_, what) || !batch.finish()) {
    return Status::error(EMSGSIZE, what);
  }
  return sock.commit(batch);
}

std::string QueueRules::describe() const {
  return form_ == QueueForm::Nft ? fmt::format("table inet {}", kTable)
                                 : fmt::format("tables ip/ip6 {}", kTable);
}

}  // namespace ftpalg::kernel
