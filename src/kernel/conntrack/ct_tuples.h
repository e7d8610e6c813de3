// The two tuples of a conntrack entry as plain values, and how they map onto a control
// connection's NAT binding. Pure: testable without a kernel.
#pragma once

#include "ftpalg/core/engine.h"

namespace ftpalg::kernel {

// Original and reply tuple of one TCP conntrack entry (ports in host byte order).
struct CtTuples {
  core::Endpoint origSrc;
  core::Endpoint origDst;
  core::Endpoint replySrc;
  core::Endpoint replyDst;
  friend bool operator==(const CtTuples&, const CtTuples&) = default;
};

// True when the entry is the control connection `flow` as seen at the forward hook:
// original source == flow.client and reply source == flow.server.
bool ctMatchesFlow(const CtTuples& t, const core::FlowKey& flow);

// clientInside = orig src, serverInside = orig dst, serverOutside = reply src,
// clientOutside = reply dst. True when any inside address differs from its outside one.
bool ctBinding(const CtTuples& t, core::NatBinding& out);

}  // namespace ftpalg::kernel
