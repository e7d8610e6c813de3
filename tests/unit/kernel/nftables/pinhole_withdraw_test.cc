// Withdrawal messages of pinhole mode: which elements an admit added, in deletion order, and
// one NFT_MSG_DELSETELEM per element with the admit's key, read back with libnftnl.
#include "kernel/nftables/pinhole_withdraw.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/pinhole_messages.h"
#include "tests/support/packet_builder.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;       // NOLINT(google-build-using-namespace)
using namespace ftpalg::kernel::nft;  // NOLINT(google-build-using-namespace)
namespace {

// Active mode behind SNAT, server 198.19.1.2 behind DNAT (public 198.18.0.1): every element.
core::Expectation everything() {
  core::Expectation x;
  x.src = endpoint("198.19.1.2:0");
  x.dst = endpoint("198.19.1.1:45001");    // as announced to the server
  x.natTo = endpoint("198.18.1.3:45000");  // the client behind the gateway
  x.hasSrcNat = true;
  x.srcNatTo = ipFromText("198.18.0.1");
  return x;
}

// Set name and key of one element message.
struct Deleted {
  std::string set;
  std::vector<uint8_t> key;
};

Deleted deleted(AdmitElement which, const core::Expectation& x) {
  std::array<char, 1024> buf{};
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  EXPECT_TRUE(appendWithdraw(batch, cfg, x, which).ok());
  EXPECT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  EXPECT_EQ(msgs.size(), 3u);
  if (msgs.size() != 3) return {};
  EXPECT_EQ(msgs[1]->nlmsg_type, nftMsgType(NFT_MSG_DELSETELEM));
  Deleted out;
  nftnl_set* s = nftnl_set_alloc();
  EXPECT_EQ(nftnl_set_elems_nlmsg_parse(msgs[1], s), 0);
  EXPECT_EQ(std::string(nftnl_set_get_str(s, NFTNL_SET_TABLE)), cfg.table);
  out.set = nftnl_set_get_str(s, NFTNL_SET_NAME);
  nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(s);
  nftnl_set_elem* e = nftnl_set_elems_iter_next(it);
  EXPECT_NE(e, nullptr);
  if (e != nullptr) {
    uint32_t len = 0;
    const auto* k = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len));
    out.key.assign(k, k + len);
    EXPECT_FALSE(nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA));
  }
  nftnl_set_elems_iter_destroy(it);
  nftnl_set_free(s);
  return out;
}

std::vector<uint8_t> bytesOf(const PackedKey& k) { return {k.view().begin(), k.view().end()}; }

TEST(PinholeWithdraw, DeletesTheMarkFirstAndThePinLast) {
  std::array<AdmitElement, 4> parts{};
  ASSERT_EQ(admitElements(everything(), parts), 4u);
  EXPECT_EQ(parts[0], AdmitElement::NatUse);
  EXPECT_EQ(parts[1], AdmitElement::Nat);
  EXPECT_EQ(parts[2], AdmitElement::Snat);
  EXPECT_EQ(parts[3], AdmitElement::Pin);

  core::Expectation plain;
  plain.src = endpoint("198.18.1.2:0");
  plain.dst = endpoint("198.19.1.2:40000");
  plain.natTo = plain.dst;
  ASSERT_EQ(admitElements(plain, parts), 1u);
  EXPECT_EQ(parts[0], AdmitElement::Pin);
}

TEST(PinholeWithdraw, EachElementByTheKeyItWasAddedWith) {
  const core::Expectation x = everything();
  const auto nat = bytesOf(packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port));
  const auto pin = bytesOf(packAddrAddrPort(x.src.addr, x.natTo.addr, x.natTo.port));
  const Deleted use = deleted(AdmitElement::NatUse, x);
  EXPECT_EQ(use.set, kNatUseSet4);
  EXPECT_EQ(use.key, nat);
  const Deleted map = deleted(AdmitElement::Nat, x);
  EXPECT_EQ(map.set, kNatMap4);
  EXPECT_EQ(map.key, nat);
  const Deleted snat = deleted(AdmitElement::Snat, x);
  EXPECT_EQ(snat.set, kSnatMap4);
  EXPECT_EQ(snat.key, nat);  // keyed as dialled, like the nat map
  const Deleted p = deleted(AdmitElement::Pin, x);
  EXPECT_EQ(p.set, kPinSet4);
  EXPECT_EQ(p.key, pin);
}

TEST(PinholeWithdraw, Ipv6UsesTheV6Sets) {
  core::Expectation x;
  x.src = endpoint("[2001:db8:2::2]:0");
  x.dst = endpoint("[2001:db8:2::1]:40000");
  x.natTo = endpoint("[2001:db8:1::2]:6000");
  EXPECT_EQ(deleted(AdmitElement::Nat, x).set, kNatMap6);
  EXPECT_EQ(deleted(AdmitElement::Pin, x).set, kPinSet6);
}

TEST(PinholeWithdraw, InvalidExpectationIsEinval) {
  std::array<char, 1024> buf{};
  NftBatch batch(buf, 1);
  core::Expectation x = everything();
  x.natTo = endpoint("[2001:db8:1::2]:6000");  // mixed families
  const Status s = appendWithdraw(batch, PinholeConfig{}, x, AdmitElement::Pin);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.err(), EINVAL);
}

}  // namespace
}  // namespace ftpalg::test
