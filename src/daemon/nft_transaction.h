// One nf_tables transaction of the daemon's rule installers (queue rules, helper rules):
// BATCH_BEGIN, the messages, BATCH_END, sent on a socket of its own; waits for every message's
// acknowledgement. Also the few libnftnl pieces both installers build their rules from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ftpalg/kernel/status.h"

struct mnl_nlmsg_batch;
struct nftnl_expr;

namespace ftpalg::daemon {

class NftTransaction {
 public:
  // A batch of up to `bytes` bytes whose BEGIN message has sequence number `seq`; message i
  // (from 0) gets seq + 1 + i.
  NftTransaction(size_t bytes, uint32_t seq);
  ~NftTransaction();
  NftTransaction(const NftTransaction&) = delete;
  NftTransaction& operator=(const NftTransaction&) = delete;

  // Where the next message goes, and its sequence number.
  char* current();
  uint32_t nextSeq() { return seq_++; }
  // After a message was written at current(); ENOENT in its acknowledgement counts as success
  // when `tolerateEnoent`.
  void commit(bool tolerateEnoent = false);

  // Appends BATCH_END, sends the batch and reads one acknowledgement per message (a receive
  // timeout of 2 s ends a wait for one that never comes). The first error, labelled `what`.
  kernel::Status run(const std::string& what);

 private:
  std::vector<char> buf_;
  mnl_nlmsg_batch* batch_ = nullptr;
  uint32_t seq_;
  uint32_t first_;
  std::vector<bool> tolerate_;
};

// delete table `family` `table`; an absent table is not an error.
void addDeleteTable(NftTransaction& b, const char* table, uint16_t family);

// Expressions for rules (the rule takes ownership): `cmp` of register 1 with `data` under `op`
// (NFT_CMP_*), `meta l4proto` into register 1, and the 2-byte TCP header field at `offset`
// (0 sport, 2 dport) into register 1.
nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len);
nftnl_expr* metaL4protoExpr();
nftnl_expr* tcpPortExpr(uint32_t offset);

}  // namespace ftpalg::daemon
