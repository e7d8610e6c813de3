#include "kernel/conntrack/ct_tuples.h"

namespace ftpalg::kernel {

bool ctMatchesFlow(const CtTuples& t, const core::FlowKey& flow) {
  return t.origSrc == flow.client && t.replySrc == flow.server;
}

bool ctBinding(const CtTuples& t, core::NatBinding& out) {
  out.clientInside = t.origSrc.addr;
  out.serverInside = t.origDst.addr;
  out.serverOutside = t.replySrc.addr;
  out.clientOutside = t.replyDst.addr;
  return out.clientInside != out.clientOutside || out.serverInside != out.serverOutside;
}

}  // namespace ftpalg::kernel
