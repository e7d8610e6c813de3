#include "kernel/nftables/rule_parts.h"

#include <libnftnl/expr.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>

#include <memory>

#include "kernel/nftables/nftnl_ptr.h"

namespace ftpalg::kernel::nft {
namespace {}  // namespace

nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

nftnl_expr* metaL4protoExpr() {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* tcpPortExpr(uint32_t offset) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
  return e;
}

bool appendDeleteTable(NftBatch& batch, const char* table, uint16_t family,
                       std::string_view label) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table);
  nlmsghdr* nlh = batch.begin(NFT_MSG_DELTABLE, family, 0, label);
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  return batch.end();
}

}  // namespace ftpalg::kernel::nft
