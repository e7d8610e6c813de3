// ExpectationTable: ctnetlink expectation messages over libmnl. libnetfilter_conntrack
// (1.0.9) builds and parses the tuple, master and mask attributes; the NAT information and the
// expectfn name are added and read here, because neither of the library's builders sends them
// (nfexp_query and nfexp_nlmsg_build both drop ATTR_EXP_NAT_TUPLE, ATTR_EXP_NAT_DIR and
// ATTR_EXP_FN without an error, and the kernel then creates an expectation without NAT).
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <span>
#include <string>
#include <utility>

#include "ftpalg/kernel/expectation.h"
#include "kernel/conntrack/ct_object.h"
#include "kernel/netlink.h"

namespace ftpalg::kernel {
namespace {

constexpr const char* kFollowMaster = "nat-follow-master";
// Netlink request buffer (MNL_SOCKET_BUFFER_SIZE is a run-time value).
constexpr size_t kRequestBytes = 1024;

struct ExpDeleter {
  void operator()(nf_expect* e) const { nfexp_destroy(e); }
};
using ExpPtr = std::unique_ptr<nf_expect, ExpDeleter>;

// The expected tuple of `x` (source port 0 when any).
CtPtr expectedObject(const core::Expectation& x) {
  core::Endpoint src = x.src;
  if (x.srcPortAny) {
    src.port = 0;
  }
  return tcpTupleObject(src, x.dst);
}

bool validPair(const core::Endpoint& a, const core::Endpoint& b) {
  return familyOf(a.addr) != AF_UNSPEC && a.addr.family == b.addr.family;
}

// Reads the original tuple of a conntrack object inside an expectation.
bool readTuple(const nf_conntrack* ct, CtTuple& out) {
  if (ct == nullptr || !nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO)) {
    return false;
  }
  const int family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
  if (family != AF_INET && family != AF_INET6) {
    return false;
  }
  out.src.addr = ctAddr(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
  out.dst.addr = ctAddr(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
  out.src.port = nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC)
                     ? ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC))
                     : 0;
  out.dst.port = nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST)
                     ? ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST))
                     : 0;
  return true;
}

// Puts a TCP tuple nest (CTA_TUPLE_IP + CTA_TUPLE_PROTO) of type `type`.
void putTuple(nlmsghdr* nlh, uint16_t type, const core::Endpoint& src, const core::Endpoint& dst) {
  nlattr* tuple = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  if (src.addr.family == core::Family::V4) {
    mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, src.addr.bytes.data());
    mnl_attr_put(nlh, CTA_IP_V4_DST, 4, dst.addr.bytes.data());
  } else {
    mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src.addr.bytes.data());
    mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst.addr.bytes.data());
  }
  mnl_attr_nest_end(nlh, ip);
  nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
  mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(src.port));
  mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dst.port));
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_nest_end(nlh, tuple);
}

// Reads the source endpoint of a tuple nest (CTA_EXPECT_NAT_TUPLE carries the target there).
bool readTupleSource(const nlattr* tuple, core::Endpoint& out) {
  NlAttrTable t;
  if (mnl_attr_parse_nested(tuple, collectNlAttr, &t) < 0 || t.tb[CTA_TUPLE_IP] == nullptr) {
    return false;
  }
  NlAttrTable ip;
  if (mnl_attr_parse_nested(t.tb[CTA_TUPLE_IP], collectNlAttr, &ip) < 0) {
    return false;
  }
  if (const nlattr* v4 = ip.tb[CTA_IP_V4_SRC]; v4 != nullptr && mnl_attr_get_payload_len(v4) == 4) {
    out.addr.family = core::Family::V4;
    std::memcpy(out.addr.bytes.data(), mnl_attr_get_payload(v4), 4);
  } else if (const nlattr* v6 = ip.tb[CTA_IP_V6_SRC];
             v6 != nullptr && mnl_attr_get_payload_len(v6) == 16) {
    out.addr.family = core::Family::V6;
    std::memcpy(out.addr.bytes.data(), mnl_attr_get_payload(v6), 16);
  } else {
    return false;
  }
  out.port = 0;
  NlAttrTable proto;
  if (t.tb[CTA_TUPLE_PROTO] != nullptr &&
      mnl_attr_parse_nested(t.tb[CTA_TUPLE_PROTO], collectNlAttr, &proto) >= 0 &&
      proto.tb[CTA_PROTO_SRC_PORT] != nullptr &&
      mnl_attr_get_payload_len(proto.tb[CTA_PROTO_SRC_PORT]) == 2) {
    out.port = ntohs(mnl_attr_get_u16(proto.tb[CTA_PROTO_SRC_PORT]));
  }
  return true;
}

}  // namespace

bool CtEntry::natted() const {
  return !(orig.src.addr == reply.dst.addr) || !(orig.dst.addr == reply.src.addr);
}

bool parseCtAttr(std::span<const uint8_t> nest, core::Family family, CtEntry& out) {
  const int af = family == core::Family::V4 ? AF_INET : AF_INET6;
  CtPtr ct(nfct_new());
  if (!ct || nest.empty() ||
      nfct_payload_parse(nest.data(), nest.size(), static_cast<uint16_t>(af), ct.get()) < 0) {
    return false;
  }
  const nf_conntrack* c = ct.get();
  const bool v4 = af == AF_INET;
  const nf_conntrack_attr need[] = {v4 ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV6_SRC,
                                    v4 ? ATTR_ORIG_IPV4_DST : ATTR_ORIG_IPV6_DST,
                                    v4 ? ATTR_REPL_IPV4_SRC : ATTR_REPL_IPV6_SRC,
                                    v4 ? ATTR_REPL_IPV4_DST : ATTR_REPL_IPV6_DST,
                                    ATTR_ORIG_PORT_SRC,
                                    ATTR_ORIG_PORT_DST,
                                    ATTR_REPL_PORT_SRC,
                                    ATTR_REPL_PORT_DST};
  for (nf_conntrack_attr a : need) {
    if (!nfct_attr_is_set(c, a)) return false;
  }
  auto addr = [&](nf_conntrack_attr a) {
    core::IpAddr r;
    r.family = family;
    std::memcpy(r.bytes.data(), nfct_get_attr(c, a), v4 ? 4 : 16);
    return r;
  };
  auto port = [&](nf_conntrack_attr a) { return ntohs(nfct_get_attr_u16(c, a)); };
  out.orig.src = {addr(need[0]), port(ATTR_ORIG_PORT_SRC)};
  out.orig.dst = {addr(need[1]), port(ATTR_ORIG_PORT_DST)};
  out.reply.src = {addr(need[2]), port(ATTR_REPL_PORT_SRC)};
  out.reply.dst = {addr(need[3]), port(ATTR_REPL_PORT_DST)};
  // Present when the entry has the seqadj extension (IPS_SEQ_ADJUST): a NATed, helped
  // connection whose payload changed length.
  auto offset = [&](nf_conntrack_attr a) {
    return nfct_attr_is_set(c, a) ? static_cast<int32_t>(nfct_get_attr_u32(c, a)) : 0;
  };
  out.seqOffsetOrig = offset(ATTR_ORIG_NAT_SEQ_OFFSET_AFTER);
  out.seqOffsetReply = offset(ATTR_REPL_NAT_SEQ_OFFSET_AFTER);
  return true;
}

ExpectNatPlan planExpectNat(const CtEntry& master, const core::Expectation& x) {
  ExpectNatPlan plan;
  plan.needed = master.natted();
  plan.dir = x.src.addr == master.orig.src.addr ? ExpectDir::Original : ExpectDir::Reply;
  plan.natAddr = plan.dir == ExpectDir::Original ? master.reply.src.addr : master.orig.src.addr;
  plan.srcAddr = plan.dir == ExpectDir::Original ? master.reply.dst.addr : master.orig.dst.addr;
  return plan;
}

class ExpectationTableImpl {
 public:
  void setDataHelper(std::string helper) { dataHelper_ = std::move(helper); }
  ~ExpectationTableImpl() {
    if (sock_.nl != nullptr) {
      mnl_socket_close(sock_.nl);
    }
  }

  Status open() {
    if (sock_.nl != nullptr) {
      return {};
    }
    if (Status s = openNetfilterSocket(sock_, "expect: open ctnetlink socket",
                                       "expect: bind ctnetlink socket");
        !s.ok()) {
      return s;
    }
    seq_ = static_cast<uint32_t>(time(nullptr));
    return {};
  }

  Status add(const CtEntry& master, const core::Expectation& x) {
    if (Status s = open(); !s.ok()) {
      return s;
    }
    if (!validPair(master.orig.src, master.orig.dst) || !validPair(x.src, x.dst) ||
        x.src.addr.family != master.orig.src.addr.family) {
      return Status::error(EINVAL, "expect: mixed or missing address families");
    }
    if (x.dst.port == 0 || x.natTo.port == 0 || (!x.srcPortAny && x.src.port == 0)) {
      return Status::error(EINVAL, "expect: port 0");
    }
    const ExpectNatPlan plan = planExpectNat(master, x);
    if (plan.needed ? !(x.natTo.addr == plan.natAddr) : !(x.natTo == x.dst)) {
      return Status::error(EINVAL,
                           "expect: NAT target disagrees with the control connection's NAT");
    }
    const core::IpAddr& srcAfter = x.hasSrcNat ? x.srcNatTo : x.src.addr;
    if (plan.needed ? !(srcAfter == plan.srcAddr) : x.hasSrcNat) {
      return Status::error(EINVAL,
                           "expect: source NAT disagrees with the control connection's NAT");
    }
    const int family = familyOf(x.src.addr);
    CtPtr masterCt = tcpTupleObject(master.orig.src, master.orig.dst);
    CtPtr expected = expectedObject(x);
    // Mask: exact addresses, exact destination port, source port open when srcPortAny. The
    // kernel keeps only the source half of the mask; the destination is always exact.
    std::array<uint8_t, 16> ones;
    ones.fill(0xff);
    CtPtr mask =
        tcpTupleObject(family, ones.data(), ones.data(), x.srcPortAny ? 0 : 0xffff, 0xffff);
    ExpPtr exp(nfexp_new());
    if (!masterCt || !expected || !mask || !exp) {
      return Status::error(ENOMEM, "expect: allocate");
    }
    nfexp_set_attr(exp.get(), ATTR_EXP_MASTER, masterCt.get());
    nfexp_set_attr(exp.get(), ATTR_EXP_EXPECTED, expected.get());
    nfexp_set_attr(exp.get(), ATTR_EXP_MASK, mask.get());
    std::array<char, kRequestBytes> buf;
    nlmsghdr* nlh =
        header(buf.data(), IPCTNL_MSG_EXP_NEW, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, family);
    if (nfexp_nlmsg_build(nlh, exp.get()) < 0) {
      return Status::error(EINVAL, "expect: build message");
    }
    if (plan.needed) {
      // CTA_EXPECT_NAT_TUPLE: the kernel reads the target from the tuple's source half.
      nlattr* nat = mnl_attr_nest_start(nlh, CTA_EXPECT_NAT);
      mnl_attr_put_u32(nlh, CTA_EXPECT_NAT_DIR, htonl(static_cast<uint32_t>(plan.dir)));
      putTuple(nlh, CTA_EXPECT_NAT_TUPLE, x.natTo, x.dst);
      mnl_attr_nest_end(nlh, nat);
      mnl_attr_put_strz(nlh, CTA_EXPECT_FN, kFollowMaster);
    }
    if (!dataHelper_.empty()) {
      mnl_attr_put_strz(nlh, CTA_EXPECT_HELP_NAME, dataHelper_.c_str());
    }
    return transact(nlh, nullptr, "expect: create");
  }

  Status remove(const core::Expectation& x) {
    if (Status s = open(); !s.ok()) {
      return s;
    }
    if (!validPair(x.src, x.dst)) {
      return Status::error(EINVAL, "expect: mixed or missing address families");
    }
    CtPtr expected = expectedObject(x);
    ExpPtr exp(nfexp_new());
    if (!expected || !exp) {
      return Status::error(ENOMEM, "expect: allocate");
    }
    nfexp_set_attr(exp.get(), ATTR_EXP_EXPECTED, expected.get());
    std::array<char, kRequestBytes> buf;
    nlmsghdr* nlh = header(buf.data(), IPCTNL_MSG_EXP_DELETE, NLM_F_ACK, familyOf(x.src.addr));
    if (nfexp_nlmsg_build(nlh, exp.get()) < 0) {
      return Status::error(EINVAL, "expect: build message");
    }
    return transact(nlh, nullptr, "expect: delete");
  }

  Status list(std::vector<ExpectEntry>& out) {
    if (Status s = open(); !s.ok()) {
      return s;
    }
    out.clear();
    std::array<char, kRequestBytes> buf;
    nlmsghdr* nlh = header(buf.data(), IPCTNL_MSG_EXP_GET, NLM_F_DUMP, AF_UNSPEC);
    return transact(nlh, &out, "expect: dump");
  }

 private:
  nlmsghdr* header(char* buf, uint8_t cmd, uint16_t flags, int family) {
    return putNfnlHeader(buf, NFNL_SUBSYS_CTNETLINK_EXP, cmd, flags, family, ++seq_);
  }

  // Sends one request; collects dump records into `sink` (when given) until ACK or DONE.
  Status transact(const nlmsghdr* nlh, std::vector<ExpectEntry>* sink, const char* what) {
    return kernel::transact(sock_, nlh, sink != nullptr ? &ExpectationTableImpl::onEntry : nullptr,
                            sink, what);
  }

  static int onEntry(const nlmsghdr* nlh, void* data) {
    auto* sink = static_cast<std::vector<ExpectEntry>*>(data);
    ExpPtr exp(nfexp_new());
    if (!exp || nfexp_nlmsg_parse(nlh, exp.get()) < 0) {
      return MNL_CB_OK;  // a record the library cannot read is skipped
    }
    ExpectEntry e;
    CtTuple expected;
    if (!readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp.get(), ATTR_EXP_MASTER)),
                   e.master) ||
        !readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp.get(), ATTR_EXP_EXPECTED)),
                   expected)) {
      return MNL_CB_OK;
    }
    e.src = expected.src;
    e.dst = expected.dst;
    CtTuple mask;
    if (readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp.get(), ATTR_EXP_MASK)),
                  mask)) {
      e.srcPortAny = mask.src.port == 0;
    }
    if (nfexp_attr_is_set(exp.get(), ATTR_EXP_TIMEOUT)) {
      e.timeoutS = nfexp_get_attr_u32(exp.get(), ATTR_EXP_TIMEOUT);
    }
    if (nfexp_attr_is_set(exp.get(), ATTR_EXP_HELPER_NAME)) {
      e.helper = static_cast<const char*>(nfexp_get_attr(exp.get(), ATTR_EXP_HELPER_NAME));
    }
    NlAttrTable top;
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &top) >= 0) {
      if (const nlattr* fn = top.tb[CTA_EXPECT_FN];
          fn != nullptr && mnl_attr_validate(fn, MNL_TYPE_NUL_STRING) >= 0) {
        e.fn = mnl_attr_get_str(fn);
      }
      NlAttrTable nat;
      if (top.tb[CTA_EXPECT_NAT] != nullptr &&
          mnl_attr_parse_nested(top.tb[CTA_EXPECT_NAT], collectNlAttr, &nat) >= 0 &&
          nat.tb[CTA_EXPECT_NAT_TUPLE] != nullptr &&
          readTupleSource(nat.tb[CTA_EXPECT_NAT_TUPLE], e.natTo)) {
        e.hasNat = true;
        if (const nlattr* dir = nat.tb[CTA_EXPECT_NAT_DIR];
            dir != nullptr && mnl_attr_get_payload_len(dir) == 4) {
          e.natDir = ntohl(mnl_attr_get_u32(dir)) == 0 ? ExpectDir::Original : ExpectDir::Reply;
        }
      }
    }
    sink->push_back(std::move(e));
    return MNL_CB_OK;
  }

  NetfilterSocket sock_;
  std::string dataHelper_;
  uint32_t seq_ = 0;
};

ExpectationTable::ExpectationTable() : impl_(std::make_unique<ExpectationTableImpl>()) {}
ExpectationTable::~ExpectationTable() = default;
Status ExpectationTable::open() { return impl_->open(); }
Status ExpectationTable::add(const CtEntry& master, const core::Expectation& x) {
  return impl_->add(master, x);
}
Status ExpectationTable::remove(const core::Expectation& x) { return impl_->remove(x); }
Status ExpectationTable::list(std::vector<ExpectEntry>& out) { return impl_->list(out); }
void ExpectationTable::setDataHelper(std::string helper) {
  impl_->setDataHelper(std::move(helper));
}

}  // namespace ftpalg::kernel
