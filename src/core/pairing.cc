#include "pairing.h"

namespace ftpalg::core {

void PairingRing::startAtGreeting() {
  ring_[0] = Pending::Greeting;
  head_ = 0;
  count_ = 1;
}

bool PairingRing::push(Pending p) {
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

Pending PairingRing::front() const {
  if (!known_ || count_ == 0) return Pending::Unknown;
  return ring_[head_];
}

Pending PairingRing::relearn(Pending want) {
  for (uint8_t i = 0; i < count_; ++i) {
    if (ring_[(head_ + i) % kCapacity] != want) continue;
    head_ = static_cast<uint8_t>((head_ + i) % kCapacity);
    count_ = static_cast<uint8_t>(count_ - i);
    known_ = true;
    return want;
  }
  return Pending::Unknown;
}

void PairingRing::pop() {
  if (count_ == 0) return;
  head_ = static_cast<uint8_t>((head_ + 1) % kCapacity);
  --count_;
}

}  // namespace ftpalg::core
