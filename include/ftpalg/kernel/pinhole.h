// Pinhole mode (kernels without nfnetlink_cthelper): ftpalg's own nftables table admits each
// announced data connection, single use and with a timeout, and steers it through NAT.
//
//   table inet ftpalg {
//     set pin4 { type ipv4_addr . ipv4_addr . inet_service; size 65535;
//                flags dynamic,timeout; }                                    (and pin6)
//       key: data source . destination after NAT . port after NAT (what forward sees)
//     map nat4 { type ipv4_addr . ipv4_addr . inet_service : ipv4_addr . inet_service;
//                size 65535; flags timeout; }                                (and nat6)
//       key: source . announced destination . port -> NAT target
//     map snat4 { type ipv4_addr . ipv4_addr . inet_service : ipv4_addr;
//                 size 65535; flags timeout; }                              (and snat6)
//       key: the nat map's key (source . destination as dialled, before DNAT, from the
//       conntrack's original tuple) -> new source address
//     chain pre  { type nat hook prerouting priority dstnat - 5;
//                  dnat ip to ip saddr . ip daddr . tcp dport map @nat4 (and ip6) }
//     chain pin  { type filter hook forward priority filter - 5;
//                  ct state new ip saddr . ip daddr . tcp dport @pin4
//                    delete @pin4 { ip saddr . ip daddr . tcp dport } ct mark set <mark>
//                    counter accept (and ip6) }
//     chain post { type nat hook postrouting priority srcnat - 5;
//                  meta l4proto tcp snat ip to ip saddr . ct original ip daddr .
//                    ct original proto-dst map @snat4 (and ip6) }
//   }
// The source NAT map carries a server behind DNAT to its public address (active mode) and a
// client behind SNAT to the control connection's public address (passive mode), as the
// kernel's nf_nat_follow_master does for the in-kernel helper.
// The admin's own forward chain admits what ftpalg marked: `ct mark <mark> accept`
// (`ftpalg rules` prints them: kernel::rulesText() in src/kernel/nftables/rules_text.h).
// The table is built with libnftnl, elements with libmnl alone (no allocation), each change as
// one nf_tables transaction whose every message the kernel acknowledges before the call
// returns, so a pinhole exists before the packet that announced it is released. Withdrawals
// delete many admits' elements in one transaction (kernel/nftables/withdraw_batcher.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "ftpalg/core/engine.h"
#include "ftpalg/defaults.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

struct PinholeConfig {
  std::string table{defaults::kTable};  // inet table name
  uint32_t ctMark = defaults::kMark;    // conntrack mark set on admitted data connections
  uint32_t timeoutMs = defaults::kPinholeTimeoutS * 1000;  // pinhole and NAT map element lifetime
  // Adds `ct state new meta l4proto tcp ct label set 0` (no bits: it changes nothing) to chain
  // pin, so the kernel gives new conntrack entries the labels extension (conntrack_state).
  bool ctLabels = false;
  // Withdrawals delete with NFT_MSG_DESTROYSETELEM where the kernel has it (6.3 and later,
  // probed); false: always NFT_MSG_DELSETELEM, as on older kernels.
  bool destroyElements = true;
};

// How withdrawals delete elements: not known yet (probed on the first withdrawal, again while
// the table is missing), NFT_MSG_DESTROYSETELEM (an element already gone is no error) or
// NFT_MSG_DELSETELEM (ENOENT for such an element: the transaction fails and is sent again
// without it).
enum class DeleteForm : uint8_t { Unknown, Destroy, Delete };

class PinholeTableImpl;

// Owns one netlink socket. Not thread-safe: one per queue thread, or guard it.
class PinholeTable {
 public:
  explicit PinholeTable(PinholeConfig cfg);
  ~PinholeTable();
  PinholeTable(const PinholeTable&) = delete;
  PinholeTable& operator=(const PinholeTable&) = delete;

  // Creates the table (replacing a stale one of the same name, atomically) with its sets, maps
  // and chains.
  Status install();
  // Deletes the table. Safe to call when it does not exist.
  Status remove();
  // Adds the pinhole (and the NAT map element when natTo differs from dst, and the source NAT
  // map element when x.hasSrcNat) for one admitted expectation, in one transaction; returns
  // after the kernel acknowledged every element. Re-admitting
  // an identical pending expectation is a no-op (its timeout is not refreshed); a (source) NAT
  // map element with the same key and another target fails with EEXIST and adds nothing; full
  // sets fail with ENFILE; mixed families or zero ports with EINVAL. The source port is not
  // part of the key (srcPortAny is always assumed). No allocation.
  Status admit(const core::Expectation& x);
  // The same with the elements' timeout `timeoutMs` instead of the table's (a pinhole
  // re-created from a record with its remaining time).
  Status admit(const core::Expectation& x, uint32_t timeoutMs);
  // Deletes what admit(x) added: the single-use mark, the NAT and source NAT map elements, the
  // pin (one that is gone already, used or timed out, is not an error and does not stop the
  // others); returns after the kernel acknowledged them. Returns the first error other than
  // ENOENT. No allocation.
  Status withdraw(const core::Expectation& x);
  // withdraw() for each of `xs` (out[i]: the outcome of xs[i]; out.size() >= xs.size()), up to
  // 40 admits per transaction: with DeleteForm::Destroy one transaction, with ::Delete one
  // more when elements were gone. No allocation.
  void withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out);
  // The form withdrawals use (Unknown until the first one).
  [[nodiscard]] DeleteForm deleteForm() const;
  // Text of the table as `nft -f` would take it (for `ftpalg rules` and docs).
  [[nodiscard]] std::string describe() const;

 private:
  std::unique_ptr<PinholeTableImpl> impl_;
};

}  // namespace ftpalg::kernel
