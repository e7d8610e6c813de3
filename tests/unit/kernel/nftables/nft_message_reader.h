// Reading back the nf_tables messages of an NftBatch in unit tests of the rule builders: the
// messages, their attributes read raw, and one line per rule expression.
#pragma once

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/nftables/nft_batch.h"

namespace ftpalg::test {

// The netlink messages of a finished batch, BEGIN and END included; `leftover`, when given,
// receives the bytes after the last whole message (0 for a well-formed batch).
inline std::vector<const nlmsghdr*> batchMessages(const kernel::nft::NftBatch& batch,
                                                  int* leftover = nullptr) {
  std::vector<const nlmsghdr*> out;
  const std::span<const char> bytes = batch.bytes();
  auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
  int left = static_cast<int>(bytes.size());
  for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
    out.push_back(nlh);
  }
  if (leftover != nullptr) *leftover = left;
  return out;
}

// nlmsg_type of nf_tables message `msg` (NFT_MSG_*).
inline uint16_t nftMsgType(uint16_t msg) {
  return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg);
}

// The nfgenmsg family (NFPROTO_*) of a message.
inline uint8_t nfgenFamily(const nlmsghdr* nlh) {
  return static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->nfgen_family;
}

// The attributes of a message (after its nfgenmsg) or of a nested attribute.
inline std::vector<const nlattr*> attrsOf(const nlmsghdr* nlh) {
  std::vector<const nlattr*> out;
  const auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(nfgenmsg)));
  int left = static_cast<int>(nlh->nlmsg_len - mnl_nlmsg_size(sizeof(nfgenmsg)));
  for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
    left -= static_cast<int>(MNL_ALIGN(a->nla_len));
    out.push_back(a);
  }
  return out;
}
inline std::vector<const nlattr*> attrsOf(const nlattr* nest) {
  std::vector<const nlattr*> out;
  const auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
  int left = static_cast<int>(mnl_attr_get_payload_len(nest));
  for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
    left -= static_cast<int>(MNL_ALIGN(a->nla_len));
    out.push_back(a);
  }
  return out;
}

// The first attribute of `type` among `attrs`, or nullptr.
inline const nlattr* findAttr(const std::vector<const nlattr*>& attrs, uint16_t type) {
  for (const nlattr* a : attrs) {
    if (mnl_attr_get_type(a) == type) return a;
  }
  return nullptr;
}

// A string attribute as sent: libmnl's mnl_attr_put_str leaves out the NUL (the kernel takes
// either), so libnftnl's parsers may read past such an attribute; read it by its length.
inline std::string attrText(const nlattr* a) {
  if (a == nullptr) return "<absent>";
  const auto* p = static_cast<const char*>(mnl_attr_get_payload(a));
  return {p, strnlen(p, mnl_attr_get_payload_len(a))};
}

// Attribute `type` of the data of expression number `index` of a NEWRULE message.
inline const nlattr* ruleExprAttr(const nlmsghdr* nlh, size_t index, uint16_t type) {
  const nlattr* list = findAttr(attrsOf(nlh), NFTA_RULE_EXPRESSIONS);
  if (list == nullptr) return nullptr;
  const std::vector<const nlattr*> exprs = attrsOf(list);
  if (index >= exprs.size()) return nullptr;
  const nlattr* data = findAttr(attrsOf(exprs[index]), NFTA_EXPR_DATA);
  return data == nullptr ? nullptr : findAttr(attrsOf(data), type);
}

inline std::string hex(const void* data, uint32_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint32_t i = 0; i < len; ++i) {
    const auto b = static_cast<const uint8_t*>(data)[i];
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// One line per expression of a NEWRULE message, registers as r1.., data in hex as sent:
//   "meta l4proto -> r1", "cmp eq r1 06", "payload th+2/2 -> r1", "queue 3+2 flags 1",
//   "target NFQUEUE rev 3 info 0300020001000000", "ct state -> r1",
//   "bitwise r1 & 08000000 ^ 00000000 -> r1", "objref 3" (its name: ruleExprAttr).
inline std::vector<std::string> ruleExprs(const nlmsghdr* nlh) {
  std::vector<std::string> out;
  nftnl_rule* r = nftnl_rule_alloc();
  if (nftnl_rule_nlmsg_parse(nlh, r) != 0) {
    nftnl_rule_free(r);
    return {"<unparsable>"};
  }
  const auto reg = [](nftnl_expr* e, uint16_t attr) {
    return "r" + std::to_string(nftnl_expr_get_u32(e, attr));
  };
  const auto data = [](nftnl_expr* e, uint16_t attr) {
    uint32_t len = 0;
    const void* d = nftnl_expr_get(e, attr, &len);
    return hex(d, len);
  };
  nftnl_expr_iter* it = nftnl_expr_iter_create(r);
  for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
    const std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    std::string line = name;
    if (name == "meta") {
      const uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
      line += key == NFT_META_L4PROTO ? " l4proto" : " key" + std::to_string(key);
      line += " -> " + reg(e, NFTNL_EXPR_META_DREG);
    } else if (name == "cmp") {
      const uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
      line += op == NFT_CMP_EQ ? " eq " : op == NFT_CMP_NEQ ? " ne " : " op" + std::to_string(op);
      line += reg(e, NFTNL_EXPR_CMP_SREG) + " " + data(e, NFTNL_EXPR_CMP_DATA);
    } else if (name == "payload") {
      const uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
      line += base == NFT_PAYLOAD_TRANSPORT_HEADER ? " th+" : " base" + std::to_string(base) + "+";
      line += std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET)) + "/" +
              std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN)) + " -> " +
              reg(e, NFTNL_EXPR_PAYLOAD_DREG);
    } else if (name == "queue" && nftnl_expr_is_set(e, NFTNL_EXPR_QUEUE_SREG_QNUM)) {
      line += " to " + reg(e, NFTNL_EXPR_QUEUE_SREG_QNUM) + " flags " +
              std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS));
    } else if (name == "queue") {
      line += " " + std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM)) + "+" +
              std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL)) + " flags " +
              std::to_string(nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS));
    } else if (name == "hash") {
      line += nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_TYPE) == NFT_HASH_SYM ? " sym" : " jhash";
      line += " mod " + std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_MODULUS)) +
              " offset " + std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_OFFSET)) + " -> " +
              reg(e, NFTNL_EXPR_HASH_DREG);
    } else if (name == "target") {
      line += std::string(" ") + nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME) + " rev " +
              std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV)) + " info " +
              data(e, NFTNL_EXPR_TG_INFO);
    } else if (name == "ct") {
      const uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
      line += key == NFT_CT_STATE ? " state" : " key" + std::to_string(key);
      line += " -> " + reg(e, NFTNL_EXPR_CT_DREG);
    } else if (name == "bitwise") {
      line += " " + reg(e, NFTNL_EXPR_BITWISE_SREG) + " & " + data(e, NFTNL_EXPR_BITWISE_MASK) +
              " ^ " + data(e, NFTNL_EXPR_BITWISE_XOR) + " -> " + reg(e, NFTNL_EXPR_BITWISE_DREG);
    } else if (name == "objref") {
      line += " " + std::to_string(nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE));
    }
    out.push_back(line);
  }
  nftnl_expr_iter_destroy(it);
  nftnl_rule_free(r);
  return out;
}

}  // namespace ftpalg::test
