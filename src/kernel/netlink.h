// Small libmnl helpers shared by the nfnetlink adapters (conntrack expectations, cthelper,
// nf_tables): open and bind a NETLINK_NETFILTER socket, build an nfnetlink request header,
// run one request to its ACK, and index the attributes of a message.
#pragma once

#include <libmnl/libmnl.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include "ftpalg/status.h"

namespace ftpalg::kernel {

// A bound NETLINK_NETFILTER socket; the caller owns `nl` and closes it with mnl_socket_close.
struct NetfilterSocket {
  mnl_socket* nl = nullptr;
  uint32_t portId = 0;
};

// Opens and binds a NETLINK_NETFILTER socket (automatic port id) into `out`. On failure `out`
// stays empty and the Status carries errno with `openWhat` or `bindWhat`.
Status openNetfilterSocket(NetfilterSocket& out, const char* openWhat, const char* bindWhat);

// Writes the nlmsghdr + nfgenmsg of one request of subsystem `subsys` (NFNL_SUBSYS_*), command
// `cmd`, NLM_F_REQUEST | `flags`, family `family` (nfgenmsg version 0) into `buf`.
nlmsghdr* putNfnlHeader(char* buf, uint8_t subsys, uint8_t cmd, uint16_t flags, int family,
                        uint32_t seq);

// Sends one request and runs `cb` (may be null) on every reply until the ACK or DONE. Errors
// the kernel reports come back as errno through mnl_cb_run; every error carries `what`.
Status transact(const NetfilterSocket& s, const nlmsghdr* nlh, mnl_cb_t cb, void* data,
                const char* what);

// The attributes of one message or nest, indexed by type (types beyond the table are ignored).
struct NlAttrTable {
  std::array<const nlattr*, 32> tb{};
};

// mnl_attr_parse callback filling the NlAttrTable passed as `data`.
int collectNlAttr(const nlattr* attr, void* data);

}  // namespace ftpalg::kernel
