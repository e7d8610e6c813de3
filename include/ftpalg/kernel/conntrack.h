// Conntrack adapter (libnetfilter_conntrack over ctnetlink): the NAT binding of a control
// connection, and TCP liberal tracking once ftpalg shifts its sequence numbers.
//
// Cost on the packet path: a NAT binding comes from the queued packet's own conntrack entry
// (NFQA_CT, parsePacketCt) or from one GET by original tuple; liberal tracking is one UPDATE and
// one GET. Nothing here walks the conntrack table except scanNat(), which the daemon never calls.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/ct_labels.h"
#include "ftpalg/kernel/expectation.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

class ConntrackImpl;

// What a NAT lookup found. NoNat and Failed both leave a session without a binding, but only
// Failed means the answer is unknown (no entry, or ctnetlink failed): callers count it.
enum class NatLookup : uint8_t {
  Natted,  // the entry was found and NAT changed an address
  NoNat,   // the entry was found and carries no NAT
  Failed,  // no entry, or the query failed: `status` says which (ENOENT: no entry)
};

// Outcome of Conntrack::lookupNat.
struct NatLookupResult {
  NatLookup outcome = NatLookup::NoNat;
  Status status;  // the error when outcome == Failed
  CtTuple orig;   // the entry's original tuple when one was found
};

// What a queued packet's NFQA_CT nest says of its conntrack entry.
struct PacketCt {
  CtEntry entry;
  // IPS_CONFIRMED: the entry is in the table, so NAT has chosen both tuples. At the forward hook
  // this holds from the server's SYN-ACK on; the client's first SYN carries an unconfirmed entry
  // whose reply tuple does not show source NAT yet.
  bool confirmed = false;
};

// Reads the tuples and CTA_STATUS from the payload of a queued packet's NFQA_CT nest. False when
// a tuple is incomplete. Allocates once (the libnetfilter_conntrack object): call it once per
// session, not per packet.
bool parsePacketCt(std::span<const uint8_t> nest, core::Family family, PacketCt& out);

// Whether a queued packet's NFQA_CT nest describes an expected connection (CTA_STATUS has
// IPS_EXPECTED, or the nest names a master tuple): a data connection created from an
// expectation. No allocation: cheap enough for every packet.
bool packetCtExpected(std::span<const uint8_t> nest);

// The NAT binding of control connection entry `e`: clientInside = orig src, serverInside = orig
// dst, serverOutside = reply src, clientOutside = reply dst. True when NAT changed an address.
bool ctEntryBinding(const CtEntry& e, core::NatBinding& out);

// One ctnetlink socket. Not thread-safe.
class Conntrack {
 public:
  Conntrack();
  ~Conntrack();
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  Status open();

  // The entry whose original tuple is `orig` (client -> the address it dialled), one GET: fills
  // `out` as ctEntryBinding does. Natted when an inside address differs from its outside one,
  // NoNat when none does, Failed when there is no such entry (ENOENT) or the query failed
  // (`out` is then unspecified). O(1) in the size of the conntrack table.
  NatLookupResult lookupNat(const CtTuple& orig, core::NatBinding& out);

  // `flow` as the forward hook sees it (client's real address, server's real address after
  // DNAT): the entry with original source == flow.client and reply source == flow.server, found
  // by a GET of client -> server and then a dump of every entry of the family. O(conntrack
  // table): for tools and tests that know no original tuple, never for the packet path.
  NatLookupResult scanNat(const core::FlowKey& flow, core::NatBinding& out);
  // The conntrack labels of the entry the last lookupNat() or scanNat() found (zero when it
  // carries none or none was found).
  [[nodiscard]] const CtLabelBits& lastLabels() const;

  // Sets IP_CT_TCP_FLAG_BE_LIBERAL in both directions of the entry whose original tuple is
  // `orig`, so the kernel does not count the shifted stream as INVALID; reads the entry back and
  // fails with EIO when the flag is not set in both directions, ENOENT when there is no entry.
  // A nonzero `mark` is set as the entry's conntrack mark in the same update (the session mark
  // that sends a rewritten control connection to the queue without bypass).
  Status setLiberal(const CtTuple& orig, uint32_t mark = 0);

  // Puts the liberal entry whose original tuple is `orig` back to TCP state ESTABLISHED with a
  // timeout of `timeoutS` seconds, the liberal flags and a nonzero `mark` set again, in one
  // UPDATE (after one GET): on any RST, also a blind one the engine judged out of window,
  // conntrack moves a liberal entry to CLOSE or cuts it to the CLOSE timeout. An entry in a
  // closing state (FIN seen) is left as it is. ENOENT when there is no entry.
  Status restoreEstablished(const CtTuple& orig, uint32_t mark, uint32_t timeoutS);

  // An UPDATE of the entry whose original tuple is `orig` that changes nothing: ctnetlink then
  // reports the entry in an update event with its sequence adjustment (CTA_SEQ_ADJ_*), which the
  // kernel's own seqadj changes never announce, so conntrackd replicates it to a backup gateway
  // (docs/ha.md). ENOENT when there is no entry.
  Status announce(const CtTuple& orig);

 private:
  std::unique_ptr<ConntrackImpl> impl_;
};

}  // namespace ftpalg::kernel
