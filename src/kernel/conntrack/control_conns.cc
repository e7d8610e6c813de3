// dumpControlConns: one NFCT_Q_DUMP per family through libnetfilter_conntrack.
#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>

#include "ftpalg/kernel/conntrack_facts.h"

namespace ftpalg::kernel {
namespace {

struct Dump {
  const std::vector<uint16_t>* ports;
  std::vector<ControlConnFacts>* out;
};

std::string addrText(const nf_conntrack* ct, int family, nf_conntrack_attr v4,
                     nf_conntrack_attr v6) {
  char buf[INET6_ADDRSTRLEN] = {};
  const void* a = nfct_get_attr(ct, family == AF_INET ? v4 : v6);
  if (a == nullptr || inet_ntop(family, a, buf, sizeof buf) == nullptr) return {};
  return buf;
}

int onEntry(enum nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
  auto* d = static_cast<Dump*>(data);
  if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_TCP) return NFCT_CB_CONTINUE;
  const uint16_t port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  if (std::find(d->ports->begin(), d->ports->end(), port) == d->ports->end()) {
    return NFCT_CB_CONTINUE;
  }
  const int family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  ControlConnFacts f;
  f.client = addrText(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
  f.dialled = addrText(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
  f.server = addrText(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC);
  f.clientPort = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
  f.port = port;
  f.established = nfct_attr_is_set(ct, ATTR_TCP_STATE) > 0 &&
                  nfct_get_attr_u8(ct, ATTR_TCP_STATE) == TCP_CONNTRACK_ESTABLISHED;
  f.timeoutS = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
  f.mark = nfct_get_attr_u32(ct, ATTR_MARK);
  if (nfct_attr_is_set(ct, ATTR_HELPER_NAME) > 0) {
    if (const auto* h = static_cast<const char*>(nfct_get_attr(ct, ATTR_HELPER_NAME));
        h != nullptr) {
      f.helper = h;
    }
  }
  d->out->push_back(std::move(f));
  return NFCT_CB_CONTINUE;
}

}  // namespace

Status dumpControlConns(const std::vector<uint16_t>& ports, std::vector<ControlConnFacts>& out) {
  nfct_handle* h = nfct_open(CONNTRACK, 0);
  if (h == nullptr) return Status::error(errno, "conntrack: open ctnetlink socket");
  std::vector<ControlConnFacts> found;
  Dump d{&ports, &found};
  nfct_callback_register(h, NFCT_T_ALL, onEntry, &d);
  Status st;
  for (uint32_t family : {uint32_t{AF_INET}, uint32_t{AF_INET6}}) {
    if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
      st = Status::error(errno, "conntrack: dump");
      break;
    }
  }
  nfct_close(h);
  if (st.ok()) out = std::move(found);
  return st;
}

}  // namespace ftpalg::kernel
