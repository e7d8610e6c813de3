// Command/reply pairing: the ring of commands still waiting for their reply, so a reply is
// judged by the command it answers (a 227 is solicited only after a PASV).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ftpalg::core {

// What a reply answers: the pending command at the front of the pairing ring.
// Port: an admitted PORT/EPRT/LPRT; its reply decides whether the announcement stays.
enum class Pending : uint8_t { Other, Greeting, Pasv, Epsv, Lpsv, AuthTls, Unknown, Port };

// Fixed ring of unanswered commands, oldest first. Pairing is "unknown" after a mid-stream
// pickup, a gap or an overflow until a passive reply re-learns it (relearn()).
class PairingRing {
 public:
  static constexpr size_t kCapacity = 16;

  // A connection seen from its SYN: the server's greeting is the first reply.
  void startAtGreeting();
  // Commands or replies may have been lost: pairing is unknown until relearn() succeeds.
  void forget() { known_ = false; }
  [[nodiscard]] bool known() const { return known_; }
  [[nodiscard]] size_t size() const { return count_; }
  // Pending command `i` of size(), oldest first (session snapshots).
  [[nodiscard]] Pending at(size_t i) const { return ring_[(head_ + i) % kCapacity]; }
  // Empties the ring with pairing `known` (a snapshot refills it with push()).
  void reset(bool known) {
    head_ = 0;
    count_ = 0;
    known_ = known;
  }

  // Appends a command. Returns true when the ring was full and pairing was known until now (it
  // is unknown from here: the oldest command is forgotten).
  bool push(Pending p);
  // The command the next reply answers; Unknown while pairing is unknown or nothing waits.
  [[nodiscard]] Pending front() const;
  // Pairing unknown: a reply of kind `want` answers the oldest pending command of that kind;
  // every command before it counts as answered and pairing is known again. Returns `want`, or
  // Unknown when no such command waits (nothing changes then).
  Pending relearn(Pending want);
  // The front command got its (final) reply.
  void pop();

 private:
  std::array<Pending, kCapacity> ring_{};
  uint8_t head_ = 0;
  uint8_t count_ = 0;
  bool known_ = true;
};

inline bool PairingRing::push(Pending p) {
  bool lost = false;
  if (count_ == kCapacity) {
    // More unanswered commands than the ring holds: forget the oldest; pairing is then only
    // re-learnt from the next passive reply.
    lost = known_;
    known_ = false;
    pop();
  }
  ring_[(head_ + count_) % kCapacity] = p;
  ++count_;
  return lost;
}

inline Pending PairingRing::front() const {
  if (!known_ || count_ == 0) return Pending::Unknown;
  return ring_[head_];
}

inline void PairingRing::pop() {
  if (count_ == 0) return;
  head_ = static_cast<uint8_t>((head_ + 1) % kCapacity);
  --count_;
}

}  // namespace ftpalg::core
