// How a queue worker opens the way for an admitted data connection, and everything else that
// depends on that choice. Chosen once when the worker is built:
//  - PinholeAdmitter (pinhole mode): an element of ftpalg's nftables pinhole set per admit,
//    NAT bindings looked up in conntrack, rewritten sessions set to liberal TCP tracking;
//  - ExpectationAdmitter (expectation mode, cthelper): a conntrack expectation per admit on the
//    entry that came with the packet (NFQA_CT), which also gives the NAT binding; the kernel
//    adjusts sequence numbers, and verdicts with new bytes carry NFQA_CT.
// The worker calls, per packet: begin(), then the engine (which may call natResolver()),
// admit() and rewritten() per event, end(); and expire() once a second.
#pragma once

#include <cstdint>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/kernel/expectation.h"
#include "ftpalg/kernel/queue_socket.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// How often the worker calls Admitter::expire() (and Engine::expire()).
inline constexpr uint64_t kExpireIntervalNs = 1'000'000'000;

// The mode-specific half of a queue worker (see above). Used by one thread.
class Admitter {
 public:
  virtual ~Admitter() = default;

  // Opens the kernel sockets; called before the queue is bound, so errors reach main().
  virtual Status open() = 0;
  // What an admit is called in failure lines ("pinhole", "expectation").
  [[nodiscard]] virtual std::string_view name() const = 0;
  // What an admit is called in admit event lines ("pinhole", "expect").
  [[nodiscard]] virtual std::string_view eventWord() const = 0;
  // The engine's NAT resolver; lives as long as the admitter.
  virtual core::NatResolver* natResolver() = 0;
  // Whether a verdict with new bytes must carry an NFQA_CT nest (the kernel records the
  // length change in seqadj only then).
  [[nodiscard]] virtual bool verdictWithCt() const = 0;

  // Starts serving `packet`, parsed as `raw`: fills `view`, what the engine is to see (valid
  // until end()). False when this mode cannot serve the packet (no usable conntrack entry).
  virtual bool begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
                     core::PacketView& view) = 0;
  // Installs the admitted expectation `x` of control connection `flow`; returns after the
  // kernel acknowledged it. May be called outside begin()/end() (timer releases, retries).
  virtual Status admit(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs) = 0;
  // Withdraws the admitted expectation `x` of `flow` (core::EventKind::Withdraw): what admit()
  // installed is deleted; returns after the kernel acknowledged it. Already gone (used, timed
  // out) is success.
  virtual Status withdraw(const core::FlowKey& flow, const core::Expectation& x,
                          uint64_t nowNs) = 0;
  // A withdrawal no verdict waits for (the session ended): the admitter may do it later, off
  // the packet path, and then counts and logs its outcome as the worker does withdraw()'s
  // (reportWithdrawal). False: not taken (nothing to defer to, or too many outstanding); the
  // caller withdraws now.
  virtual bool withdrawLater(const core::Event& /*withdraw*/, uint64_t /*nowNs*/) { return false; }
  // Before the worker ends: every withdrawal withdrawLater() took is done and reported.
  virtual void drain(uint64_t /*nowNs*/) {}
  // The engine rewrote an announcement of `flow`.
  virtual void rewritten(const core::FlowKey& flow, uint64_t nowNs) = 0;
  // The engine shifted `flow`'s stream (core::Actions::streamShifted), between begin() and
  // end(), before any verdict of the packet: true once every packet of the session is queued
  // from now on, pure ACKs included (pinhole mode: the conntrack mark session_mark the queue
  // rules' ACK bypass checks, with liberal tracking). Modes whose kernel adjusts the numbers
  // itself need nothing.
  virtual bool shifted(const core::FlowKey& /*flow*/, uint64_t /*nowNs*/) { return true; }
  // The verdicts of a batch have left (the kernel applied them). Expectation mode announces
  // the seqadj of the connections shifted in the batch (ExpectationAdmitter).
  virtual void verdictsFlushed(uint64_t /*nowNs*/) {}
  // Ends serving the packet begun last; `view` is what the engine saw, `flow` and `dir` its
  // control connection and direction.
  virtual void end(const core::PacketView& view, const core::FlowKey& flow, core::Dir dir,
                   uint64_t nowNs) = 0;
  // The engine ignored an RST of `flow` (out of window: forwarded, session kept), between
  // begin() and end(). Pinhole mode puts its liberal entry back to ESTABLISHED; expectation mode
  // needs nothing (its entry is not liberal: the kernel's own tracking judges the RST).
  virtual void rstIgnored(const core::FlowKey& /*flow*/, uint64_t /*nowNs*/) {}
  // Once a second: forgets what belongs to connections the engine no longer has.
  virtual void expire(uint64_t nowNs) = 0;
  // At start, for a stored session snapshot: false when its connection is known to be gone (no
  // conntrack entry), so the snapshot is not adopted. Modes that cannot tell say true.
  virtual bool sessionAlive(const core::FlowKey& /*flow*/, const core::NatBinding& /*nat*/) {
    return true;
  }
  // The original tuple of control connection `flow`'s conntrack entry, as far as the admitter
  // knows it (conntrack_state writes its labels there).
  virtual kernel::CtTuple entryTuple(const core::FlowKey& flow) {
    return kernel::CtTuple{flow.client, flow.server};
  }
};

}  // namespace ftpalg::daemon
