// ExpectationTable: ctnetlink expectation messages through libnetfilter_conntrack's query
// interface (nfexp_query), which builds the NAT, expectfn and class attributes; its libmnl
// builder (nfexp_nlmsg_build) does not.
#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "ftpalg/kernel/expectation.h"

namespace ftpalg::kernel {
namespace {

constexpr const char* kFollowMaster = "nat-follow-master";

struct CtDeleter {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using CtPtr = std::unique_ptr<nf_conntrack, CtDeleter>;

struct ExpDeleter {
  void operator()(nf_expect* e) const { nfexp_destroy(e); }
};
using ExpPtr = std::unique_ptr<nf_expect, ExpDeleter>;

int familyOf(const core::IpAddr& a) {
  switch (a.family) {
    case core::Family::V4:
      return AF_INET;
    case core::Family::V6:
      return AF_INET6;
    case core::Family::None:
      break;
  }
  return AF_UNSPEC;
}

// A TCP tuple object src -> dst. Ports in host order; addresses from the endpoints.
CtPtr tupleObject(int family, const uint8_t* src, const uint8_t* dst, uint16_t sport,
                  uint16_t dport) {
  CtPtr ct(nfct_new());
  if (!ct) {
    return ct;
  }
  nfct_set_attr_u8(ct.get(), ATTR_L3PROTO, static_cast<uint8_t>(family));
  if (family == AF_INET) {
    nfct_set_attr(ct.get(), ATTR_IPV4_SRC, src);
    nfct_set_attr(ct.get(), ATTR_IPV4_DST, dst);
  } else {
    nfct_set_attr(ct.get(), ATTR_IPV6_SRC, src);
    nfct_set_attr(ct.get(), ATTR_IPV6_DST, dst);
  }
  nfct_set_attr_u8(ct.get(), ATTR_L4PROTO, IPPROTO_TCP);
  nfct_set_attr_u16(ct.get(), ATTR_PORT_SRC, htons(sport));
  nfct_set_attr_u16(ct.get(), ATTR_PORT_DST, htons(dport));
  return ct;
}

CtPtr tupleObject(const core::Endpoint& src, const core::Endpoint& dst) {
  return tupleObject(familyOf(src.addr), src.addr.bytes.data(), dst.addr.bytes.data(), src.port,
                     dst.port);
}

// The expected tuple of `x` (source port 0 when any).
CtPtr expectedObject(const core::Expectation& x) {
  core::Endpoint src = x.src;
  if (x.srcPortAny) {
    src.port = 0;
  }
  return tupleObject(src, x.dst);
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
  core::IpAddr src;
  core::IpAddr dst;
  if (family == AF_INET) {
    src.family = dst.family = core::Family::V4;
    std::memcpy(src.bytes.data(), nfct_get_attr(ct, ATTR_ORIG_IPV4_SRC), 4);
    std::memcpy(dst.bytes.data(), nfct_get_attr(ct, ATTR_ORIG_IPV4_DST), 4);
  } else if (family == AF_INET6) {
    src.family = dst.family = core::Family::V6;
    std::memcpy(src.bytes.data(), nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC), 16);
    std::memcpy(dst.bytes.data(), nfct_get_attr(ct, ATTR_ORIG_IPV6_DST), 16);
  } else {
    return false;
  }
  out.src.addr = src;
  out.dst.addr = dst;
  out.src.port = nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC)
                     ? ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC))
                     : 0;
  out.dst.port = nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST)
                     ? ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST))
                     : 0;
  return true;
}

}  // namespace

bool CtEntry::natted() const {
  return !(orig.src.addr == reply.dst.addr) || !(orig.dst.addr == reply.src.addr);
}

ExpectNatPlan planExpectNat(const CtEntry& master, const core::Expectation& x) {
  ExpectNatPlan plan;
  plan.needed = master.natted();
  plan.dir = x.src.addr == master.orig.src.addr ? ExpectDir::Original : ExpectDir::Reply;
  plan.natAddr = plan.dir == ExpectDir::Original ? master.reply.src.addr : master.orig.src.addr;
  return plan;
}

class ExpectationTableImpl {
 public:
  ~ExpectationTableImpl() {
    if (h_ != nullptr) {
      nfct_close(h_);
    }
  }

  Status open() {
    if (h_ != nullptr) {
      return {};
    }
    h_ = nfct_open(EXPECT, 0);
    if (h_ == nullptr) {
      return Status::error(errno, "expect: open ctnetlink socket");
    }
    if (nfexp_callback_register(h_, NFCT_T_ALL, &ExpectationTableImpl::onEntry, this) < 0) {
      return Status::error(errno, "expect: register callback");
    }
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
    const int family = familyOf(x.src.addr);
    CtPtr masterCt = tupleObject(master.orig.src, master.orig.dst);
    CtPtr expected = expectedObject(x);
    // Mask: exact addresses, exact destination port, source port open when srcPortAny. The
    // kernel keeps only the source half of the mask; the destination is always exact.
    std::array<uint8_t, 16> ones;
    ones.fill(0xff);
    CtPtr mask = tupleObject(family, ones.data(), ones.data(), x.srcPortAny ? 0 : 0xffff, 0xffff);
    ExpPtr exp(nfexp_new());
    if (!masterCt || !expected || !mask || !exp) {
      return Status::error(ENOMEM, "expect: allocate");
    }
    nfexp_set_attr(exp.get(), ATTR_EXP_MASTER, masterCt.get());
    nfexp_set_attr(exp.get(), ATTR_EXP_EXPECTED, expected.get());
    nfexp_set_attr(exp.get(), ATTR_EXP_MASK, mask.get());
    // Sent for completeness; the helper policy's timeout is what the kernel applies.
    nfexp_set_attr_u32(exp.get(), ATTR_EXP_TIMEOUT, 30);
    CtPtr nat;
    if (plan.needed) {
      // CTA_EXPECT_NAT_TUPLE: the kernel reads the target from its source half.
      nat = tupleObject(family, x.natTo.addr.bytes.data(), x.dst.addr.bytes.data(), x.natTo.port,
                        x.dst.port);
      if (!nat) {
        return Status::error(ENOMEM, "expect: allocate");
      }
      nfexp_set_attr(exp.get(), ATTR_EXP_NAT_TUPLE, nat.get());
      // libnetfilter_conntrack documents this attribute as 8 bits but reads 32 on some
      // versions; the 32-bit setter is right for both on a little-endian host.
      nfexp_set_attr_u32(exp.get(), ATTR_EXP_NAT_DIR, static_cast<uint32_t>(plan.dir));
      nfexp_set_attr(exp.get(), ATTR_EXP_FN, kFollowMaster);
    }
    if (nfexp_query(h_, NFCT_Q_CREATE, exp.get()) < 0) {
      return Status::error(errno, "expect: create");
    }
    return {};
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
    if (nfexp_query(h_, NFCT_Q_DESTROY, exp.get()) < 0) {
      return Status::error(errno, "expect: delete");
    }
    return {};
  }

  Status list(std::vector<ExpectEntry>& out) {
    if (Status s = open(); !s.ok()) {
      return s;
    }
    out.clear();
    sink_ = &out;
    uint32_t family = AF_UNSPEC;
    const int rc = nfexp_query(h_, NFCT_Q_DUMP, &family);
    const int err = errno;
    sink_ = nullptr;
    if (rc < 0) {
      return Status::error(err, "expect: dump");
    }
    return {};
  }

 private:
  static int onEntry(enum nf_conntrack_msg_type /*type*/, struct nf_expect* exp, void* data) {
    auto* self = static_cast<ExpectationTableImpl*>(data);
    if (self->sink_ == nullptr) {
      return NFCT_CB_CONTINUE;
    }
    ExpectEntry e;
    CtTuple expected;
    CtTuple mask;
    if (!readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_MASTER)),
                   e.master) ||
        !readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_EXPECTED)),
                   expected)) {
      return NFCT_CB_CONTINUE;
    }
    e.src = expected.src;
    e.dst = expected.dst;
    if (readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_MASK)), mask)) {
      e.srcPortAny = mask.src.port == 0;
    }
    if (nfexp_attr_is_set(exp, ATTR_EXP_TIMEOUT)) {
      e.timeoutS = nfexp_get_attr_u32(exp, ATTR_EXP_TIMEOUT);
    }
    if (nfexp_attr_is_set(exp, ATTR_EXP_HELPER_NAME)) {
      e.helper = static_cast<const char*>(nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME));
    }
    if (nfexp_attr_is_set(exp, ATTR_EXP_FN)) {
      e.fn = static_cast<const char*>(nfexp_get_attr(exp, ATTR_EXP_FN));
    }
    CtTuple nat;
    if (nfexp_attr_is_set(exp, ATTR_EXP_NAT_TUPLE) &&
        readTuple(static_cast<const nf_conntrack*>(nfexp_get_attr(exp, ATTR_EXP_NAT_TUPLE)), nat)) {
      e.hasNat = true;
      e.natTo = nat.src;
      if (nfexp_attr_is_set(exp, ATTR_EXP_NAT_DIR)) {
        e.natDir =
            nfexp_get_attr_u32(exp, ATTR_EXP_NAT_DIR) == 0 ? ExpectDir::Original : ExpectDir::Reply;
      }
    }
    self->sink_->push_back(std::move(e));
    return NFCT_CB_CONTINUE;
  }

  nfct_handle* h_ = nullptr;
  std::vector<ExpectEntry>* sink_ = nullptr;
};

ExpectationTable::ExpectationTable() : impl_(std::make_unique<ExpectationTableImpl>()) {}
ExpectationTable::~ExpectationTable() = default;
Status ExpectationTable::open() { return impl_->open(); }
Status ExpectationTable::add(const CtEntry& master, const core::Expectation& x) {
  return impl_->add(master, x);
}
Status ExpectationTable::remove(const core::Expectation& x) { return impl_->remove(x); }
Status ExpectationTable::list(std::vector<ExpectEntry>& out) { return impl_->list(out); }

}  // namespace ftpalg::kernel
