// CtHelper: nfnetlink_cthelper messages over libmnl.
//
// Messages are built and parsed here with libmnl and the kernel's uapi header
// <linux/netfilter/nfnetlink_cthelper.h>, the same wire format libnetfilter_cthelper produces.
// The library itself is not used: its object model is all it would add for five attributes,
// and nfct_helper_free() in 1.0.1 (Debian 12) reads the object's policy pointers after freeing
// it.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_cthelper.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "ftpalg/kernel/cthelper.h"
#include "kernel/netlink.h"

namespace ftpalg::kernel {
namespace {

constexpr size_t kHelperNameMax = 16;        // NF_CT_HELPER_NAME_LEN, NUL included
constexpr uint32_t kMaxExpectedLimit = 255;  // NF_CT_EXPECT_MAX_CNT
// Netlink request buffer (MNL_SOCKET_BUFFER_SIZE is a run-time value).
constexpr size_t kRequestBytes = 1024;

Status openSocket(NetfilterSocket& s) {
  return openNetfilterSocket(s, "cthelper: open nfnetlink socket",
                             "cthelper: bind nfnetlink socket");
}

// nfnetlink header of one cthelper request (AF_UNSPEC, version 0).
nlmsghdr* buildHeader(char* buf, uint8_t cmd, uint16_t flags, uint32_t seq) {
  return putNfnlHeader(buf, NFNL_SUBSYS_CTHELPER, cmd, flags, AF_UNSPEC, seq);
}

uint32_t nextSeq(uint32_t& seq) {
  if (seq == 0) {
    seq = static_cast<uint32_t>(time(nullptr));
  }
  return ++seq;
}

// --- Parsing dump replies -------------------------------------------------------------------

bool u32Attr(const nlattr* a, uint32_t& out) {
  if (a == nullptr || mnl_attr_validate(a, MNL_TYPE_U32) < 0) {
    return false;
  }
  out = ntohl(mnl_attr_get_u32(a));
  return true;
}

int onHelper(const nlmsghdr* nlh, void* data) {
  auto* out = static_cast<std::vector<CtHelperInfo>*>(data);
  NlAttrTable top;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &top) < 0) {
    return MNL_CB_ERROR;
  }
  CtHelperInfo info;
  const nlattr* name = top.tb[NFCTH_NAME];
  if (name == nullptr || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0) {
    return MNL_CB_OK;  // not a helper record we can read; skip it
  }
  info.name = mnl_attr_get_str(name);
  u32Attr(top.tb[NFCTH_QUEUE_NUM], info.queueNum);
  uint32_t status = 0;
  if (u32Attr(top.tb[NFCTH_STATUS], status)) {
    info.enabled = status == NFCT_HELPER_STATUS_ENABLED;
  }
  if (const nlattr* tuple = top.tb[NFCTH_TUPLE]; tuple != nullptr) {
    NlAttrTable t;
    if (mnl_attr_parse_nested(tuple, collectNlAttr, &t) >= 0) {
      if (const nlattr* l3 = t.tb[NFCTH_TUPLE_L3PROTONUM];
          l3 != nullptr && mnl_attr_validate(l3, MNL_TYPE_U16) >= 0) {
        info.l3Family = ntohs(mnl_attr_get_u16(l3));
      }
      if (const nlattr* l4 = t.tb[NFCTH_TUPLE_L4PROTONUM];
          l4 != nullptr && mnl_attr_validate(l4, MNL_TYPE_U8) >= 0) {
        info.l4Proto = mnl_attr_get_u8(l4);
      }
    }
  }
  if (const nlattr* policy = top.tb[NFCTH_POLICY]; policy != nullptr) {
    NlAttrTable set;
    if (mnl_attr_parse_nested(policy, collectNlAttr, &set) >= 0 &&
        set.tb[NFCTH_POLICY_SET1] != nullptr) {
      NlAttrTable p;
      if (mnl_attr_parse_nested(set.tb[NFCTH_POLICY_SET1], collectNlAttr, &p) >= 0) {
        u32Attr(p.tb[NFCTH_POLICY_EXPECT_MAX], info.maxExpected);
        u32Attr(p.tb[NFCTH_POLICY_EXPECT_TIMEOUT], info.expectTimeoutS);
      }
    }
  }
  out->push_back(std::move(info));
  return MNL_CB_OK;
}

}  // namespace

CtHelper::CtHelper(CtHelperConfig cfg) : cfg_(std::move(cfg)) {}

CtHelper::~CtHelper() {
  if (nl_ != nullptr) {
    mnl_socket_close(nl_);
  }
}

Status CtHelper::probe() {
  NetfilterSocket s;
  if (Status st = openSocket(s); !st.ok()) {
    return st;
  }
  std::array<char, kRequestBytes> buf;
  uint32_t seq = 0;
  nlmsghdr* nlh =
      buildHeader(buf.data(), NFNL_MSG_CTHELPER_GET, NLM_F_DUMP | NLM_F_ACK, nextSeq(seq));
  std::vector<CtHelperInfo> ignored;
  Status st = transact(s, nlh, onHelper, &ignored, "cthelper: query nfnetlink_cthelper");
  mnl_socket_close(s.nl);
  // nfnetlink answers EINVAL (recent kernels) or EOPNOTSUPP for a subsystem it does not have.
  if (st.err() == EINVAL || st.err() == EOPNOTSUPP) {
    return Status::error(EOPNOTSUPP, "cthelper: the kernel has no nfnetlink_cthelper");
  }
  return st;
}

Status CtHelper::open() {
  if (nl_ != nullptr) {
    return {};
  }
  if (cfg_.name.empty() || cfg_.name.size() >= kHelperNameMax) {
    return Status::error(EINVAL, "cthelper: helper name must have 1 to 15 bytes");
  }
  if (cfg_.maxExpected == 0 || cfg_.maxExpected > kMaxExpectedLimit) {
    return Status::error(EINVAL, "cthelper: maximum expectations must be 1 to 255");
  }
  NetfilterSocket s;
  if (Status st = openSocket(s); !st.ok()) {
    return st;
  }
  nl_ = s.nl;
  portId_ = s.portId;
  return {};
}

Status CtHelper::registerFamily(uint16_t family, bool withPolicy, bool enabled) {
  std::array<char, kRequestBytes> buf;
  nlmsghdr* nlh =
      buildHeader(buf.data(), NFNL_MSG_CTHELPER_NEW, NLM_F_CREATE | NLM_F_ACK, nextSeq(seq_));
  mnl_attr_put_strz(nlh, NFCTH_NAME, cfg_.name.c_str());
  nlattr* tuple = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
  mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(family));
  mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, IPPROTO_TCP);
  mnl_attr_nest_end(nlh, tuple);
  if (withPolicy) {
    mnl_attr_put_u32(nlh, NFCTH_QUEUE_NUM, htonl(cfg_.queueNum));
    mnl_attr_put_u32(nlh, NFCTH_PRIV_DATA_LEN, htonl(0));
    nlattr* policy = mnl_attr_nest_start(nlh, NFCTH_POLICY);
    mnl_attr_put_u32(nlh, NFCTH_POLICY_SET_NUM, htonl(1));
    nlattr* p = mnl_attr_nest_start(nlh, NFCTH_POLICY_SET1);
    // The policy name must stay the same across updates (the kernel answers EBUSY otherwise).
    mnl_attr_put_strz(nlh, NFCTH_POLICY_NAME, cfg_.name.c_str());
    mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_MAX, htonl(cfg_.maxExpected));
    mnl_attr_put_u32(nlh, NFCTH_POLICY_EXPECT_TIMEOUT, htonl(cfg_.expectTimeoutS));
    mnl_attr_nest_end(nlh, p);
    mnl_attr_nest_end(nlh, policy);
  }
  mnl_attr_put_u32(nlh, NFCTH_STATUS,
                   htonl(enabled ? NFCT_HELPER_STATUS_ENABLED : NFCT_HELPER_STATUS_DISABLED));
  return transact(
      {nl_, portId_}, nlh, nullptr, nullptr,
      family == AF_INET ? "cthelper: register for IPv4" : "cthelper: register for IPv6");
}

Status CtHelper::install() {
  if (Status st = open(); !st.ok()) {
    return st;
  }
  for (uint16_t family : {uint16_t{AF_INET}, uint16_t{AF_INET6}}) {
    if (Status st = registerFamily(family, true, false); !st.ok()) {
      return st;
    }
  }
  return {};
}

Status CtHelper::setEnabled(bool enabled) {
  if (Status st = open(); !st.ok()) {
    return st;
  }
  for (uint16_t family : {uint16_t{AF_INET}, uint16_t{AF_INET6}}) {
    if (Status st = registerFamily(family, false, enabled); !st.ok()) {
      return st;
    }
  }
  return {};
}

Status CtHelper::remove() {
  if (Status st = open(); !st.ok()) {
    return st;
  }
  for (uint16_t family : {uint16_t{AF_INET}, uint16_t{AF_INET6}}) {
    std::array<char, kRequestBytes> buf;
    nlmsghdr* nlh = buildHeader(buf.data(), NFNL_MSG_CTHELPER_DEL, NLM_F_ACK, nextSeq(seq_));
    mnl_attr_put_strz(nlh, NFCTH_NAME, cfg_.name.c_str());
    nlattr* tuple = mnl_attr_nest_start(nlh, NFCTH_TUPLE);
    mnl_attr_put_u16(nlh, NFCTH_TUPLE_L3PROTONUM, htons(family));
    mnl_attr_put_u8(nlh, NFCTH_TUPLE_L4PROTONUM, IPPROTO_TCP);
    mnl_attr_nest_end(nlh, tuple);
    Status st = transact(
        {nl_, portId_}, nlh, nullptr, nullptr,
        family == AF_INET ? "cthelper: unregister for IPv4" : "cthelper: unregister for IPv6");
    if (!st.ok() && st.err() != ENOENT) {
      return st;
    }
  }
  return {};
}

Status CtHelper::list(std::vector<CtHelperInfo>& out) {
  if (Status st = open(); !st.ok()) {
    return st;
  }
  std::array<char, kRequestBytes> buf;
  nlmsghdr* nlh =
      buildHeader(buf.data(), NFNL_MSG_CTHELPER_GET, NLM_F_DUMP | NLM_F_ACK, nextSeq(seq_));
  out.clear();
  return transact({nl_, portId_}, nlh, onHelper, &out, "cthelper: list helpers");
}

}  // namespace ftpalg::kernel
