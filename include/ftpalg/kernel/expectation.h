// Expectation mode: conntrack expectations through ctnetlink (libnetfilter_conntrack). For each
// admitted announcement ftpalgd creates one expectation on the control connection's conntrack
// entry before it releases the packet that carried the announcement, so the data connection's
// first packet cannot overtake it. The kernel then matches the data connection as RELATED
// (`ct state related`), counts it against the helper's policy, and, when NAT information is
// given, maps it with the "nat-follow-master" function: the data connection follows the
// control connection's NAT in the right direction.
//
// Kernel rules (nf_conntrack_netlink.c, nf_conntrack_expect.c, 6.1):
//  - the master must have a helper attached (EOPNOTSUPP otherwise) and must exist (ENOENT);
//  - the lifetime is the helper policy's timeout (see cthelper.h), not a per-expectation value;
//  - an expectation is used once: it disappears when the data connection arrives, when it
//    times out, or with its master;
//  - no helper name is sent (the expectation class is therefore always 0: the kernel reads a
//    class only together with a helper name). The data connection then gets no helper on
//    6.1.192 and 6.12; 6.1.170 gives it the master's, whatever the expectation names
//    (measured in the qemu lane), so there its packets are queued too.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

// The original-direction tuple of a conntrack entry (TCP, ports in host byte order). For a
// control connection: client -> the address the client dialled, port 21.
struct CtTuple {
  core::Endpoint src;
  core::Endpoint dst;
  friend bool operator==(const CtTuple&, const CtTuple&) = default;
};

// Direction of the data connection relative to its master, as CTA_EXPECT_NAT_DIR carries it.
enum class ExpectDir : uint8_t {
  Original = 0,  // same way as the control connection (passive mode: client -> server)
  Reply = 1,     // the other way (active mode: server -> client)
};

// One expectation as the kernel reports it (list()).
struct ExpectEntry {
  CtTuple master;
  core::Endpoint src;  // expected source; port 0 when any source port matches
  core::Endpoint dst;
  bool srcPortAny = false;  // the mask leaves the source port open
  uint32_t timeoutS = 0;    // remaining lifetime
  std::string helper;       // the master's helper
  std::string fn;           // expectfn name ("nat-follow-master"), empty without
  bool hasNat = false;
  ExpectDir natDir = ExpectDir::Original;
  core::Endpoint natTo;  // CTA_EXPECT_NAT_TUPLE source: address and port after NAT
};

// Both tuples of a conntrack entry: what the kernel reports for a control connection (NFQA_CT
// of a queued packet, or a ctnetlink query).
struct CtEntry {
  CtTuple orig;
  CtTuple reply;
  // The kernel's sequence adjustment (seqadj: CTA_SEQ_ADJ_ORIG / CTA_SEQ_ADJ_REPLY, offset
  // after the last correction): bytes that payload rewrites added to the original-direction
  // (client) and the reply-direction (server) stream so far. 0 without the extension.
  int32_t seqOffsetOrig = 0;
  int32_t seqOffsetReply = 0;
  // True when NAT changed an address: orig.src != reply.dst or orig.dst != reply.src.
  [[nodiscard]] bool natted() const;
};

// How the kernel must map the data connection of `x` on control connection `master`.
// needed: the master is NATed, so the data connection must follow it ("nat-follow-master").
// dir: Original when x.src is the master's original source (passive mode, client -> server),
// Reply otherwise (active mode). natAddr: the destination address follow-master produces (the
// master's reply source for Original, its original source for Reply). srcAddr: the source
// address follow-master produces (the master's reply destination for Original, its original
// destination for Reply): the kernel's own source NAT of the data connection, which is what
// x.hasSrcNat/x.srcNatTo ask for, so expectation mode needs no rule of its own for it.
// Pure; exposed for tests.
struct ExpectNatPlan {
  bool needed = false;
  ExpectDir dir = ExpectDir::Original;
  core::IpAddr natAddr;
  core::IpAddr srcAddr;
};
ExpectNatPlan planExpectNat(const CtEntry& master, const core::Expectation& x);

// Reads both tuples from the payload of a conntrack nest (NFQA_CT of a queued packet, whose
// attributes are CTA_*) of an IPv4 or IPv6 TCP connection, and its seqadj offsets when it has
// them. False when a tuple is incomplete.
bool parseCtAttr(std::span<const uint8_t> nest, core::Family family, CtEntry& out);

class ExpectationTableImpl;

// One ctnetlink socket for expectations. Not thread-safe.
class ExpectationTable {
 public:
  ExpectationTable();
  ~ExpectationTable();
  ExpectationTable(const ExpectationTable&) = delete;
  ExpectationTable& operator=(const ExpectationTable&) = delete;

  Status open();

  // Creates the expectation of `x` on the conntrack entry `master` (looked up by its original
  // tuple): tuple x.src -> x.dst (TCP), mask exact on the addresses and the destination port,
  // source port wildcard when x.srcPortAny. When the master is NATed, adds NAT information and
  // the "nat-follow-master" function: the kernel maps the data connection's source and
  // destination addresses like the master's (see planExpectNat) and its destination port to
  // x.natTo.port. x.natTo must agree: its address must be plan.natAddr, and without NAT on the
  // master x.natTo must equal x.dst; likewise the source: x.srcNatTo (or x.src.addr without
  // x.hasSrcNat) must be plan.srcAddr, and without NAT on the master x.hasSrcNat must be
  // false (EINVAL otherwise). Returns after the kernel acknowledged
  // (ENOENT: no such master; EOPNOTSUPP: the master has no helper; EBUSY: another master
  // expects a clashing tuple; EMFILE: the namespace's expectation table is full). An identical
  // expectation is replaced; at the helper policy's maximum the kernel evicts the master's
  // oldest expectation.
  Status add(const CtEntry& master, const core::Expectation& x);
  // Deletes the expectation whose tuple matches x.src -> x.dst. ENOENT when there is none
  // (already used or expired).
  Status remove(const core::Expectation& x);
  // Every expectation of the caller's network namespace, IPv4 and IPv6.
  Status list(std::vector<ExpectEntry>& out);
  // Names `helper` (CTA_EXPECT_HELP_NAME, a registered helper) in every expectation add()
  // creates from now on; empty (the default, what ftpalgd uses): no name. For the qemu lane's
  // measurements: neither 6.1.170 nor 6.1.192 attaches a named disabled userspace helper to the
  // data connection instead of the master's / none.
  void setDataHelper(std::string helper);

 private:
  std::unique_ptr<ExpectationTableImpl> impl_;
};

}  // namespace ftpalg::kernel
