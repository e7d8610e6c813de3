// Withdrawing an admit: deleting the elements appendAdmit added, one message each (libmnl
// only, no allocation).
#include "kernel/nftables/pinhole_withdraw.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>
#include <string_view>

#include "kernel/nftables/pinhole_messages.h"

namespace ftpalg::kernel::nft {
namespace {

// Kernels 6.3 and later (linux/netfilter/nf_tables.h of older ones lacks it).
constexpr uint16_t kMsgDestroySetElem = 30;  // NFT_MSG_DESTROYSETELEM

// Deletes one set element by key.
bool putDelete(NftBatch& batch, const PinholeConfig& cfg, const char* set, const PackedKey& key,
               std::string_view label, DeleteForm form = DeleteForm::Delete) {
  const uint16_t type =
      form == DeleteForm::Destroy ? kMsgDestroySetElem : static_cast<uint16_t>(NFT_MSG_DELSETELEM);
  nlmsghdr* nlh = batch.begin(type, NFPROTO_INET, 0, label);
  if (nlh == nullptr) {
    return false;
  }
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, cfg.table.c_str());
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  nlattr* k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, key.len, key.bytes.data());
  mnl_attr_nest_end(nlh, k);
  mnl_attr_nest_end(nlh, elem);
  mnl_attr_nest_end(nlh, list);
  return batch.end();
}

}  // namespace

size_t admitElements(const core::Expectation& x, std::array<AdmitElement, 4>& out) {
  size_t n = 0;
  if (x.natTo != x.dst) out[n++] = AdmitElement::NatUse;
  if (x.natTo != x.dst) out[n++] = AdmitElement::Nat;
  if (x.hasSrcNat) out[n++] = AdmitElement::Snat;
  out[n++] = AdmitElement::Pin;
  return n;
}

bool withdrawable(const core::Expectation& x) {
  const core::Family fam = x.src.addr.family;
  return (fam == core::Family::V4 || fam == core::Family::V6) && x.dst.addr.family == fam &&
         x.natTo.addr.family == fam && x.dst.port != 0 && x.natTo.port != 0;
}

bool appendDestroyProbe(NftBatch& batch, const PinholeConfig& cfg) {
  PackedKey zero;
  zero.len = 12;  // ipv4_addr . ipv4_addr . inet_service, all zero
  return putDelete(batch, cfg, kPinSet4, zero, "nft: destroy element probe", DeleteForm::Destroy);
}

Status appendWithdraw(NftBatch& batch, const PinholeConfig& cfg, const core::Expectation& x,
                      AdmitElement which, DeleteForm form) {
  if (!withdrawable(x)) {
    return Status::error(EINVAL, "nft: withdraw: invalid expectation");
  }
  const core::Family fam = x.src.addr.family;
  const bool v4 = fam == core::Family::V4;
  const PackedKey pin = packAddrAddrPort(x.src.addr, x.natTo.addr, x.natTo.port);
  const PackedKey nat = packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port);
  bool ok = false;
  switch (which) {
    case AdmitElement::NatUse:
      ok = putDelete(batch, cfg, v4 ? kNatUseSet4 : kNatUseSet6, nat,
                     v4 ? "nft: delete element from natuse4" : "nft: delete element from natuse6",
                     form);
      break;
    case AdmitElement::Nat:
      ok = putDelete(batch, cfg, v4 ? kNatMap4 : kNatMap6, nat,
                     v4 ? "nft: delete element from nat4" : "nft: delete element from nat6", form);
      break;
    case AdmitElement::Snat:
      ok =
          putDelete(batch, cfg, v4 ? kSnatMap4 : kSnatMap6, nat,
                    v4 ? "nft: delete element from snat4" : "nft: delete element from snat6", form);
      break;
    case AdmitElement::Pin:
      ok = putDelete(batch, cfg, v4 ? kPinSet4 : kPinSet6, pin,
                     v4 ? "nft: delete element from pin4" : "nft: delete element from pin6", form);
      break;
  }
  if (!ok) return Status::error(EMSGSIZE, "nft: withdraw: batch too large");
  return {};
}

}  // namespace ftpalg::kernel::nft
