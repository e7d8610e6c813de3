// Batched withdrawals (withdraw_batcher.h) against a fake kernel that answers as nf_tables
// does: every message of a batch answered, the batch committed only when all are 0, DELSETELEM
// of an absent element ENOENT, DESTROYSETELEM of one 0 (kernels 6.3 and later; older ones say
// EINVAL to the unknown type), a missing table ENOENT. One transaction with the destroy form,
// one more with the delete form when elements are gone, the probe once, other errors kept to
// their own admit, chunks of 40 admits, and the one-by-one fallback when elements keep
// vanishing.
#include "kernel/nftables/withdraw_batcher.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kernel/nftables/pinhole_messages.h"
#include "tests/support/packet_builder.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using kernel::DeleteForm;
using kernel::PinholeConfig;
using kernel::nft::NftBatch;
using kernel::nft::packAddrAddrPort;
using kernel::nft::WithdrawBatcher;

constexpr uint16_t kDestroySetElem = 30;  // NFT_MSG_DESTROYSETELEM

// One set element: set name and key bytes.
using Element = std::pair<std::string, std::string>;

std::string bytesOf(const kernel::nft::PackedKey& k) {
  return {reinterpret_cast<const char*>(k.bytes.data()), k.len};
}

// The set elements an admit of `x` adds (as appendAdmit builds them).
std::vector<Element> elementsOf(const core::Expectation& x) {
  const std::string pin = bytesOf(packAddrAddrPort(x.src.addr, x.natTo.addr, x.natTo.port));
  const std::string nat = bytesOf(packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port));
  std::vector<Element> out{{"pin4", pin}};
  if (!(x.natTo == x.dst)) {
    out.emplace_back("nat4", nat);
    out.emplace_back("natuse4", nat);
  }
  if (x.hasSrcNat) out.emplace_back("snat4", nat);  // keyed by the dialled destination
  return out;
}

// The kernel, as far as element deletion goes.
class FakeKernel final : public kernel::nft::Transactor {
 public:
  uint32_t reserveSeq(size_t messages) override {
    const uint32_t first = seq_;
    seq_ += static_cast<uint32_t>(messages + 2);
    return first;
  }
  Status commitEach(const NftBatch& batch, std::span<int> codes) override {
    if (beforeCommit) beforeCommit(*this);
    const std::vector<const nlmsghdr*> msgs = batchMessages(batch);
    transactions.push_back(msgs.size() - 2);
    if (!answer.ok()) return answer;
    std::set<Element> next = elements;
    bool failed = false;
    for (size_t i = 1; i + 1 < msgs.size(); ++i) {
      const int code = apply(msgs[i], next);
      codes[i - 1] = code;
      failed = failed || code != 0;
    }
    if (!failed) elements = std::move(next);
    return {};
  }

  void admit(const core::Expectation& x) {
    for (const Element& e : elementsOf(x)) elements.insert(e);
  }
  // The data connection arrived: the pin and the single-use mark are deleted by the rules.
  void use(const core::Expectation& x) {
    for (const Element& e : elementsOf(x)) {
      if (e.first == "pin4" || e.first == "natuse4") elements.erase(e);
    }
  }

  std::set<Element> elements;
  bool hasDestroy = true;
  bool tableExists = true;
  std::string refusedSet;  // deletions from this set answer EPERM
  Status answer;           // not ok: commitEach fails with it (nothing sent)
  std::function<void(FakeKernel&)> beforeCommit;
  std::vector<size_t> transactions;  // messages per transaction

 private:
  int apply(const nlmsghdr* m, std::set<Element>& next) const {
    const auto type = static_cast<uint16_t>(m->nlmsg_type & 0xff);
    if (type == kDestroySetElem && !hasDestroy) return EINVAL;
    if (!tableExists) return ENOENT;
    const std::vector<const nlattr*> attrs = attrsOf(m);
    const std::string set = attrText(findAttr(attrs, NFTA_SET_ELEM_LIST_SET));
    if (set == refusedSet) return EPERM;
    const nlattr* list = findAttr(attrs, NFTA_SET_ELEM_LIST_ELEMENTS);
    const nlattr* key = findAttr(attrsOf(attrsOf(list).at(0)), NFTA_SET_ELEM_KEY);
    const nlattr* value = findAttr(attrsOf(key), NFTA_DATA_VALUE);
    const std::string bytes(static_cast<const char*>(mnl_attr_get_payload(value)),
                            mnl_attr_get_payload_len(value));
    if (next.erase(Element{set, bytes}) == 1) return 0;
    return type == kDestroySetElem ? 0 : ENOENT;
  }
  uint32_t seq_ = 100;
};

// Active mode behind SNAT, server behind DNAT: all four elements (NAT map, its mark, source
// NAT, pin); `i` varies the client's port.
core::Expectation everything(uint16_t i) {
  core::Expectation x;
  x.src = endpoint("198.19.1.2:0");
  x.dst = core::Endpoint{ipFromText("198.19.1.1"), static_cast<uint16_t>(45000 + i)};
  x.natTo = core::Endpoint{ipFromText("198.18.1.3"), static_cast<uint16_t>(41000 + i)};
  x.hasSrcNat = true;
  x.srcNatTo = ipFromText("198.18.0.1");
  return x;
}

class WithdrawBatcherTest : public ::testing::Test {
 protected:
  // `n` admits, every other one used by its data connection.
  void admitted(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      xs_.push_back(everything(static_cast<uint16_t>(i)));
      kernel_.admit(xs_.back());
      if (i % 2 == 0) kernel_.use(xs_.back());
    }
    out_.assign(n, Status());
  }
  void withdraw(WithdrawBatcher& b) { b.withdraw(xs_, out_); }
  void expectAllOk() {
    for (size_t i = 0; i < out_.size(); ++i) EXPECT_TRUE(out_[i].ok()) << i << out_[i].message();
  }

  PinholeConfig cfg_;
  FakeKernel kernel_;
  std::vector<core::Expectation> xs_;
  std::vector<Status> out_;
};

TEST_F(WithdrawBatcherTest, DestroyFormWithdrawsManyAdmitsInOneTransaction) {
  admitted(10);
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  expectAllOk();
  EXPECT_TRUE(kernel_.elements.empty());
  EXPECT_EQ(b.form(), DeleteForm::Destroy);
  // The probe, then 40 messages (10 admits x 4 elements) at once.
  EXPECT_EQ(kernel_.transactions, (std::vector<size_t>{1, 40}));
  withdraw(b);  // probed once only
  EXPECT_EQ(kernel_.transactions.size(), 3u);
}

TEST_F(WithdrawBatcherTest, DeleteFormDropsTheElementsGoneAndSendsTheRestOnce) {
  kernel_.hasDestroy = false;  // Debian 12's 6.1
  admitted(10);
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  expectAllOk();
  EXPECT_TRUE(kernel_.elements.empty());
  EXPECT_EQ(b.form(), DeleteForm::Delete);
  // The probe (EINVAL), the batch that fails on the 10 elements gone (5 pins, 5 marks), and
  // the 30 others again.
  EXPECT_EQ(kernel_.transactions, (std::vector<size_t>{1, 40, 30}));
}

TEST_F(WithdrawBatcherTest, DeleteFormWithNothingGoneIsOneTransaction) {
  cfg_.destroyElements = false;  // no probe either
  for (uint16_t i = 0; i < 3; ++i) {
    xs_.push_back(everything(i));
    kernel_.admit(xs_.back());
  }
  out_.assign(3, Status());
  WithdrawBatcher b(cfg_, kernel_);
  EXPECT_EQ(b.form(), DeleteForm::Delete);
  withdraw(b);
  expectAllOk();
  EXPECT_TRUE(kernel_.elements.empty());
  EXPECT_EQ(kernel_.transactions, std::vector<size_t>{12});
}

TEST_F(WithdrawBatcherTest, TheFormStaysUnknownWhileTheTableIsMissing) {
  kernel_.tableExists = false;
  admitted(2);
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  expectAllOk();  // nothing left to delete is no failure
  EXPECT_EQ(b.form(), DeleteForm::Unknown);
  kernel_.tableExists = true;
  withdraw(b);
  EXPECT_EQ(b.form(), DeleteForm::Destroy);
}

TEST_F(WithdrawBatcherTest, AnotherErrorIsTheOutcomeOfItsOwnAdmitOnly) {
  kernel_.hasDestroy = false;
  xs_ = {everything(0), everything(1)};
  xs_[1].hasSrcNat = false;
  for (const core::Expectation& x : xs_) kernel_.admit(x);
  kernel_.refusedSet = "snat4";
  out_.assign(2, Status());
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  EXPECT_EQ(out_[0].err(), EPERM);
  EXPECT_NE(out_[0].message().find("snat4"), std::string::npos) << out_[0].message();
  EXPECT_TRUE(out_[1].ok()) << out_[1].message();
  // Everything but the refused element is gone.
  ASSERT_EQ(kernel_.elements.size(), 1u);
  EXPECT_EQ(kernel_.elements.begin()->first, "snat4");
}

TEST_F(WithdrawBatcherTest, FortyAdmitsPerTransaction) {
  admitted(100);
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  expectAllOk();
  EXPECT_TRUE(kernel_.elements.empty());
  EXPECT_EQ(kernel_.transactions, (std::vector<size_t>{1, 160, 160, 80}));
}

TEST_F(WithdrawBatcherTest, AnInvalidExpectationFailsAloneWithEinval) {
  admitted(2);
  xs_.insert(xs_.begin() + 1, core::Expectation{});
  out_.assign(3, Status());
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  EXPECT_TRUE(out_[0].ok());
  EXPECT_EQ(out_[1].err(), EINVAL);
  EXPECT_TRUE(out_[2].ok());
  EXPECT_TRUE(kernel_.elements.empty());
}

TEST_F(WithdrawBatcherTest, ElementsVanishingOnEveryRoundEndOneByOne) {
  cfg_.destroyElements = false;
  kernel_.hasDestroy = false;
  for (uint16_t i = 0; i < 4; ++i) {
    xs_.push_back(everything(i));
    kernel_.admit(xs_.back());
  }
  out_.assign(4, Status());
  // Before each transaction one more data connection arrives.
  size_t used = 0;
  kernel_.beforeCommit = [&](FakeKernel& k) {
    if (used < xs_.size()) k.use(xs_[used++]);
  };
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  expectAllOk();
  EXPECT_TRUE(kernel_.elements.empty());
  ASSERT_GT(kernel_.transactions.size(), 3u);
  // Three batched rounds, then one element per transaction.
  EXPECT_EQ(kernel_.transactions[0], 16u);
  for (size_t i = 3; i < kernel_.transactions.size(); ++i) EXPECT_EQ(kernel_.transactions[i], 1u);
}

TEST_F(WithdrawBatcherTest, AnUnknownOutcomeIsEveryAdmitsFailure) {
  admitted(3);
  cfg_.destroyElements = false;
  kernel_.answer = Status::error(ETIMEDOUT, "fake: no answer");
  WithdrawBatcher b(cfg_, kernel_);
  withdraw(b);
  for (const Status& s : out_) EXPECT_EQ(s.err(), ETIMEDOUT);
  EXPECT_EQ(kernel_.transactions.size(), 1u);
}

}  // namespace
}  // namespace ftpalg::test
