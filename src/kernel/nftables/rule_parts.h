// The pieces the queueing and helper rule tables (queue_rule_messages, helper_rule_messages)
// build their messages from: three expressions of a `tcp dport N` match and the message that
// deletes a table. Pure message building: no socket.
#pragma once

#include <cstdint>
#include <string_view>

#include "kernel/nftables/nft_batch.h"

struct nftnl_expr;

namespace ftpalg::kernel::nft {

// Expressions for rules (the rule they are added to takes ownership): `cmp` of register 1 with
// `data` under `op` (NFT_CMP_*), `meta l4proto` into register 1, and the 2-byte TCP header field
// at `offset` (0 sport, 2 dport) into register 1.
nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len);
nftnl_expr* metaL4protoExpr();
nftnl_expr* tcpPortExpr(uint32_t offset);

// delete table `family` `table` (NFPROTO_*), labelled `label`. An absent table fails with
// ENOENT: commit such a batch on its own, tolerating ENOENT. False when the batch is full.
bool appendDeleteTable(NftBatch& batch, const char* table, uint16_t family, std::string_view label);

}  // namespace ftpalg::kernel::nft
