// Conntrack: ctnetlink queries through libnetfilter_conntrack.
//
// On the packet path every query names one entry by its original tuple (GET, UPDATE): the
// daemon takes the original tuple from the queued packet's own entry (NFQA_CT), so a flow the
// engine does not know costs at most one GET whatever the size of the table. scanNat() alone
// dumps the family's entries and matches them in userspace (libnetfilter_conntrack 1.0.9 cannot
// ask the kernel to filter a dump by tuple); only tools call it.
#include "ftpalg/kernel/conntrack.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "kernel/conntrack/ct_object.h"
#include "kernel/conntrack/ct_tuples.h"

namespace ftpalg::kernel {
namespace {

// IP_CT_TCP_FLAG_BE_LIBERAL from <linux/netfilter/nf_conntrack_tcp.h>, whose enum clashes with
// libnetfilter_conntrack_tcp.h.
constexpr uint8_t kTcpFlagBeLiberal = 0x08;

struct FilterDeleter {
  void operator()(nfct_filter_dump* f) const { nfct_filter_dump_destroy(f); }
};

std::optional<CtTuples> tuplesOf(const nf_conntrack* ct) {
  if (!nfct_attr_is_set(ct, ATTR_L3PROTO) || !nfct_attr_is_set(ct, ATTR_L4PROTO) ||
      nfct_get_attr_u8(ct, ATTR_L4PROTO) != IPPROTO_TCP) {
    return std::nullopt;
  }
  const int family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
  if (family != AF_INET && family != AF_INET6) {
    return std::nullopt;
  }
  CtTuples t;
  t.origSrc.addr = ctAddr(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC);
  t.origDst.addr = ctAddr(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
  t.replySrc.addr = ctAddr(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC);
  t.replyDst.addr = ctAddr(ct, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST);
  t.origSrc.port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC));
  t.origDst.port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  t.replySrc.port = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC));
  t.replyDst.port = ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_DST));
  return t;
}

}  // namespace

class ConntrackImpl {
 public:
  ~ConntrackImpl() {
    if (h_ != nullptr) {
      nfct_close(h_);
    }
  }

  Status open() {
    if (h_ != nullptr) {
      return {};
    }
    h_ = nfct_open(CONNTRACK, 0);
    if (h_ == nullptr) {
      return Status::error(errno, "conntrack: open ctnetlink socket");
    }
    if (nfct_callback_register(h_, NFCT_T_ALL, &ConntrackImpl::onEntry, this) < 0) {
      return Status::error(errno, "conntrack: register callback");
    }
    return {};
  }

  // The entry whose original tuple is `orig`, or ENOENT. One GET.
  Status get(const CtTuple& orig, CtTuples& out) {
    if (Status st = open(); !st.ok()) {
      return st;
    }
    if (familyOf(orig.src.addr) == AF_UNSPEC || orig.dst.addr.family != orig.src.addr.family) {
      return Status::error(EINVAL, "conntrack: tuple with mixed or no address family");
    }
    CtPtr ct = tcpTupleObject(orig.src, orig.dst);
    if (!ct) {
      return Status::error(ENOMEM, "conntrack: allocate entry");
    }
    mode_ = Mode::Any;
    found_.reset();
    labels_ = {};
    const int rc = nfct_query(h_, NFCT_Q_GET, ct.get());
    mode_ = Mode::Match;
    if (rc < 0 && errno != ENOENT) {
      return Status::error(errno, "conntrack: get entry");
    }
    if (!found_) {
      return Status::error(ENOENT, "conntrack: no entry for the control connection");
    }
    out = *found_;
    return {};
  }

  // The entry of `flow` (original source == flow.client, reply source == flow.server), or
  // ENOENT: a GET of client -> server, then a dump of the family.
  Status scan(const core::FlowKey& flow, CtTuples& out) {
    if (Status st = get(CtTuple{flow.client, flow.server}, out); st.err() != ENOENT) {
      return st;
    }
    const int family = familyOf(flow.client.addr);
    flow_ = flow;
    found_.reset();
    std::unique_ptr<nfct_filter_dump, FilterDeleter> filter(nfct_filter_dump_create());
    if (!filter) {
      return Status::error(ENOMEM, "conntrack: allocate dump filter");
    }
    nfct_filter_dump_set_attr_u8(filter.get(), NFCT_FILTER_DUMP_L3NUM,
                                 static_cast<uint8_t>(family));
    if (nfct_query(h_, NFCT_Q_DUMP_FILTER, filter.get()) < 0) {
      return Status::error(errno, "conntrack: dump entries");
    }
    if (!found_) {
      return Status::error(ENOENT, "conntrack: no entry for the control connection");
    }
    out = *found_;
    return {};
  }

  Status readFlags(const CtTuples& t, uint8_t& orig, uint8_t& repl) {
    CtPtr ct = tcpTupleObject(t.origSrc, t.origDst);
    if (!ct) {
      return Status::error(ENOMEM, "conntrack: allocate entry");
    }
    wantFlags_ = true;
    flagsSeen_ = false;
    const int rc = nfct_query(h_, NFCT_Q_GET, ct.get());
    wantFlags_ = false;
    if (rc < 0) {
      return Status::error(errno, "conntrack: read back entry");
    }
    if (!flagsSeen_) {
      return Status::error(ENODATA, "conntrack: entry without TCP flags");
    }
    orig = flagsOrig_;
    repl = flagsRepl_;
    return {};
  }

  Status setLiberal(const CtTuple& entry, uint32_t mark) {
    CtTuples t;
    if (Status s = get(entry, t); !s.ok()) {
      return s;
    }
    CtPtr ct = tcpTupleObject(t.origSrc, t.origDst);
    if (!ct) {
      return Status::error(ENOMEM, "conntrack: allocate entry");
    }
    constexpr uint8_t kLiberal = kTcpFlagBeLiberal;
    nfct_set_attr_u8(ct.get(), ATTR_TCP_FLAGS_ORIG, kLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_MASK_ORIG, kLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_FLAGS_REPL, kLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_MASK_REPL, kLiberal);
    if (mark != 0) nfct_set_attr_u32(ct.get(), ATTR_MARK, mark);
    if (nfct_query(h_, NFCT_Q_UPDATE, ct.get()) < 0) {
      return Status::error(errno, "conntrack: set TCP liberal flag");
    }
    uint8_t orig = 0;
    uint8_t repl = 0;
    if (Status s = readFlags(t, orig, repl); !s.ok()) {
      return s;
    }
    if ((orig & kLiberal) == 0 || (repl & kLiberal) == 0) {
      return Status::error(EIO, "conntrack: TCP liberal flag not set after update");
    }
    return {};
  }

  Status announce(const CtTuple& entry) {
    CtPtr ct = tcpTupleObject(entry.src, entry.dst);
    if (!ct) {
      return Status::error(ENOMEM, "conntrack: allocate entry");
    }
    if (nfct_query(h_, NFCT_Q_UPDATE, ct.get()) < 0) {
      return Status::error(errno, "conntrack: announce entry");
    }
    return {};
  }

  Status restoreEstablished(const CtTuple& entry, uint32_t mark, uint32_t timeoutS) {
    CtTuples t;
    if (Status s = get(entry, t); !s.ok()) {
      return s;
    }
    if (state_ != TCP_CONNTRACK_ESTABLISHED && state_ != TCP_CONNTRACK_CLOSE) {
      return {};  // closing (FIN seen): its own timeouts apply, ESTABLISHED would be wrong
    }
    CtPtr ct = tcpTupleObject(t.origSrc, t.origDst);
    if (!ct) {
      return Status::error(ENOMEM, "conntrack: allocate entry");
    }
    // nlattr_to_tcp sets the state as given (below TCP_CONNTRACK_MAX) and the flags under
    // their mask; the timeout replaces the CLOSE one the RST left.
    nfct_set_attr_u8(ct.get(), ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_FLAGS_ORIG, kTcpFlagBeLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_MASK_ORIG, kTcpFlagBeLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_FLAGS_REPL, kTcpFlagBeLiberal);
    nfct_set_attr_u8(ct.get(), ATTR_TCP_MASK_REPL, kTcpFlagBeLiberal);
    nfct_set_attr_u32(ct.get(), ATTR_TIMEOUT, timeoutS);
    if (mark != 0) nfct_set_attr_u32(ct.get(), ATTR_MARK, mark);
    if (nfct_query(h_, NFCT_Q_UPDATE, ct.get()) < 0) {
      return Status::error(errno, "conntrack: restore TCP state ESTABLISHED");
    }
    return {};
  }

  // The labels of the entry the last get() or scan() found.
  [[nodiscard]] const CtLabelBits& labels() const { return labels_; }

 private:
  // Called for the GET reply and for every dumped entry. Always continues: stopping a dump
  // early would leave its remaining messages queued on the socket.
  static int onEntry(nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    auto* self = static_cast<ConntrackImpl*>(data);
    if (self->wantFlags_) {
      if (nfct_attr_is_set(ct, ATTR_TCP_FLAGS_ORIG) && nfct_attr_is_set(ct, ATTR_TCP_FLAGS_REPL)) {
        self->flagsSeen_ = true;
        self->flagsOrig_ = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_ORIG);
        self->flagsRepl_ = nfct_get_attr_u8(ct, ATTR_TCP_FLAGS_REPL);
      }
      return NFCT_CB_CONTINUE;
    }
    if (self->found_) {
      return NFCT_CB_CONTINUE;
    }
    const std::optional<CtTuples> t = tuplesOf(ct);
    if (t && (self->mode_ == Mode::Any || ctMatchesFlow(*t, self->flow_))) {
      self->found_ = t;
      self->labels_ = labelsOf(ct);
      self->state_ = nfct_attr_is_set(ct, ATTR_TCP_STATE) ? nfct_get_attr_u8(ct, ATTR_TCP_STATE)
                                                          : uint8_t{TCP_CONNTRACK_MAX};
    }
    return NFCT_CB_CONTINUE;
  }

  // What onEntry takes: the GET's one answer, or the dumped entry matching flow_.
  enum class Mode : uint8_t { Any, Match };

  nfct_handle* h_ = nullptr;
  Mode mode_ = Mode::Match;
  core::FlowKey flow_;
  std::optional<CtTuples> found_;
  bool wantFlags_ = false;
  bool flagsSeen_ = false;
  uint8_t flagsOrig_ = 0;
  uint8_t flagsRepl_ = 0;
  uint8_t state_ = TCP_CONNTRACK_MAX;  // TCP state of the entry found_ names
  CtLabelBits labels_;                 // conntrack labels of the entry found_ names
};

Conntrack::Conntrack() : impl_(std::make_unique<ConntrackImpl>()) {}
Conntrack::~Conntrack() = default;

Status Conntrack::open() { return impl_->open(); }

NatLookupResult Conntrack::lookupNat(const CtTuple& orig, core::NatBinding& out) {
  CtTuples t;
  if (Status s = impl_->get(orig, t); !s.ok()) {
    return NatLookupResult{NatLookup::Failed, std::move(s), {}};
  }
  return NatLookupResult{
      ctBinding(t, out) ? NatLookup::Natted : NatLookup::NoNat, {}, CtTuple{t.origSrc, t.origDst}};
}

const CtLabelBits& Conntrack::lastLabels() const { return impl_->labels(); }

NatLookupResult Conntrack::scanNat(const core::FlowKey& flow, core::NatBinding& out) {
  CtTuples t;
  if (Status s = impl_->scan(flow, t); !s.ok()) {
    return NatLookupResult{NatLookup::Failed, std::move(s), {}};
  }
  return NatLookupResult{
      ctBinding(t, out) ? NatLookup::Natted : NatLookup::NoNat, {}, CtTuple{t.origSrc, t.origDst}};
}

Status Conntrack::setLiberal(const CtTuple& orig, uint32_t mark) {
  return impl_->setLiberal(orig, mark);
}

Status Conntrack::restoreEstablished(const CtTuple& orig, uint32_t mark, uint32_t timeoutS) {
  return impl_->restoreEstablished(orig, mark, timeoutS);
}

Status Conntrack::announce(const CtTuple& orig) { return impl_->announce(orig); }

}  // namespace ftpalg::kernel
