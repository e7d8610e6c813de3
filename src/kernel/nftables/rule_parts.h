// The pieces the queueing and helper rule tables (queue_rule_messages, helper_rule_messages)
// build their messages from: the table, base chain and rule messages, the expressions of a
// `tcp dport N` match and of a masked compare, and the message that deletes a table. Pure
// message building: no socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nftnl_ptr.h"

struct nftnl_expr;

namespace ftpalg::kernel::nft {

// A base chain of type filter: its table, name, hook (NF_INET_*), priority and, when set, its
// policy (NF_ACCEPT / NF_DROP; unset: the kernel's default, accept).
struct BaseChain {
  const char* table;
  const char* name;
  uint32_t hook;
  int32_t priority;
  std::optional<uint32_t> policy;
};

// Expressions for rules (the rule they are added to takes ownership): `cmp` of register 1 with
// `data` under `op` (NFT_CMP_*), `meta l4proto` into register 1, the 2-byte TCP header field
// at `offset` (0 sport, 2 dport) into register 1, and register 1 &= `mask` (`len` bytes, at most
// 4).
nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len);
nftnl_expr* metaL4protoExpr();
nftnl_expr* tcpPortExpr(uint32_t offset);
nftnl_expr* maskExpr(const void* mask, uint32_t len);

// meta l4proto tcp, then tcp dport (`offset` 2) or sport (0) == `port`, added to `rule`.
void addTcpPortMatch(nftnl_rule* rule, uint32_t offset, uint16_t port);

// A rule of `table` `chain` without expressions, for appendNewRule.
RulePtr newRule(const char* table, const char* chain);

// add table `family` `table` (a no-op when it exists), add chain `chain`, add rule `rule` (at
// the chain's end), each labelled `label`. False when the batch is full.
bool appendNewTable(NftBatch& batch, const char* table, uint16_t family, std::string_view label);
bool appendBaseChain(NftBatch& batch, const BaseChain& chain, uint16_t family,
                     std::string_view label);
bool appendNewRule(NftBatch& batch, nftnl_rule* rule, uint16_t family, std::string_view label);

// delete table `family` `table` (NFPROTO_*), labelled `label`. An absent table fails with
// ENOENT: commit such a batch on its own, tolerating ENOENT. False when the batch is full.
bool appendDeleteTable(NftBatch& batch, const char* table, uint16_t family, std::string_view label);

}  // namespace ftpalg::kernel::nft
