// Configuration reload inside the engine: only fields that nothing was sized by. Every part of
// the engine reads cfg_ through a reference, so the new values act from the next segment on.
#include "engine_impl.h"

namespace ftpalg::core {

void EngineImpl::applyPolicy(const EngineConfig& next) {
  cfg_.allowBounce = next.allowBounce;
  cfg_.allowLowPorts = next.allowLowPorts;
  cfg_.allowLongForms = next.allowLongForms;
  cfg_.expectTimeoutNs = next.expectTimeoutNs;
  cfg_.idleTimeoutNs = next.idleTimeoutNs;
  cfg_.closeTimeoutNs = next.closeTimeoutNs;
  cfg_.halfOpenTimeoutNs = next.halfOpenTimeoutNs;
  cfg_.holdTimeoutNs = next.holdTimeoutNs;
  cfg_.gapDropLimit = next.gapDropLimit;
  cfg_.pasvAddressMismatch = next.pasvAddressMismatch;
  cfg_.overrides = next.overrides;
}

void Engine::applyPolicy(const EngineConfig& next) { impl_->applyPolicy(next); }

void Engine::setGatewayAddresses(const std::array<IpAddr, 8>& addrs) {
  impl_->setGatewayAddresses(addrs);
}

}  // namespace ftpalg::core
