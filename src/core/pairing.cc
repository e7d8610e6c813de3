#include "pairing.h"

namespace ftpalg::core {

void PairingRing::startAtGreeting() {
  ring_[0] = Pending::Greeting;
  head_ = 0;
  count_ = 1;
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

}  // namespace ftpalg::core
