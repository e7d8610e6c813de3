// CtLabels: conntrack labels through libnetfilter_conntrack (ATTR_CONNLABELS, an nfct_bitmask
// whose bit numbers are the kernel's).
#include "ftpalg/kernel/ct_labels.h"

#include <arpa/inet.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

#include "kernel/conntrack/ct_object.h"

namespace ftpalg::kernel {
namespace {

// A bitmask object holding `bits` (the entry object that takes it frees it).
nfct_bitmask* toBitmask(const CtLabelBits& bits) {
  nfct_bitmask* b = nfct_bitmask_new(CtLabelBits::kBits - 1);
  if (b == nullptr) return nullptr;
  for (unsigned i = 0; i < CtLabelBits::kBits; ++i) {
    if (bits.test(i)) nfct_bitmask_set_bit(b, i);
  }
  return b;
}

core::Endpoint endpoint(const nf_conntrack* ct, int family, nf_conntrack_attr v4,
                        nf_conntrack_attr v6, nf_conntrack_attr port) {
  return core::Endpoint{ctAddr(ct, family, v4, v6), ntohs(nfct_get_attr_u16(ct, port))};
}

}  // namespace

class CtLabelsImpl {
 public:
  ~CtLabelsImpl() {
    if (h_ != nullptr) nfct_close(h_);
  }

  Status open() {
    if (h_ != nullptr) return {};
    h_ = nfct_open(CONNTRACK, 0);
    if (h_ == nullptr) return Status::error(errno, "conntrack labels: open ctnetlink socket");
    if (nfct_callback_register(h_, NFCT_T_ALL, &CtLabelsImpl::onEntry, this) < 0) {
      return Status::error(errno, "conntrack labels: register callback");
    }
    return {};
  }

  Status write(const CtTuple& orig, const CtLabelBits& value, const CtLabelBits& mask) {
    if (Status s = open(); !s.ok()) return s;
    CtPtr ct = tcpTupleObject(orig.src, orig.dst);
    nfct_bitmask* v = toBitmask(value);
    nfct_bitmask* m = toBitmask(mask);
    if (!ct || v == nullptr || m == nullptr) {
      if (v != nullptr) nfct_bitmask_destroy(v);
      if (m != nullptr) nfct_bitmask_destroy(m);
      return Status::error(ENOMEM, "conntrack labels: allocate");
    }
    nfct_set_attr(ct.get(), ATTR_CONNLABELS, v);  // owned by the entry object from here
    nfct_set_attr(ct.get(), ATTR_CONNLABELS_MASK, m);
    visit_ = nullptr;
    if (nfct_query(h_, NFCT_Q_UPDATE, ct.get()) < 0) {
      return Status::error(errno, "conntrack labels: update");
    }
    return {};
  }

  Status read(const CtTuple& orig, CtLabelBits& out) {
    if (Status s = open(); !s.ok()) return s;
    CtPtr ct = tcpTupleObject(orig.src, orig.dst);
    if (!ct) return Status::error(ENOMEM, "conntrack labels: allocate");
    got_ = false;
    single_ = &out;
    visit_ = nullptr;
    const int rc = nfct_query(h_, NFCT_Q_GET, ct.get());
    single_ = nullptr;
    if (rc < 0) return Status::error(errno, "conntrack labels: get");
    if (!got_) return Status::error(ENOENT, "conntrack labels: no entry");
    return {};
  }

  Status dump(const CtLabelBits& mask, const std::function<void(const LabeledEntry&)>& visit) {
    if (Status s = open(); !s.ok()) return s;
    mask_ = mask;
    visit_ = &visit;
    for (const uint32_t family : {uint32_t{AF_INET}, uint32_t{AF_INET6}}) {
      uint32_t f = family;
      if (nfct_query(h_, NFCT_Q_DUMP, &f) < 0) {
        visit_ = nullptr;
        return Status::error(errno, "conntrack labels: dump");
      }
    }
    visit_ = nullptr;
    return {};
  }

 private:
  static int onEntry(nf_conntrack_msg_type, nf_conntrack* ct, void* data) {
    auto* self = static_cast<CtLabelsImpl*>(data);
    if (self->single_ != nullptr) {
      *self->single_ = labelsOf(ct);
      self->got_ = true;
      return NFCT_CB_CONTINUE;
    }
    if (self->visit_ == nullptr || !nfct_attr_is_set(ct, ATTR_L4PROTO) ||
        nfct_get_attr_u8(ct, ATTR_L4PROTO) != IPPROTO_TCP) {
      return NFCT_CB_CONTINUE;
    }
    LabeledEntry e;
    e.labels = labelsOf(ct);
    const bool ours = ((e.labels.words[0] & self->mask_.words[0]) |
                       (e.labels.words[1] & self->mask_.words[1])) != 0;
    if (!ours) return NFCT_CB_CONTINUE;
    const int family = nfct_get_attr_u8(ct, ATTR_L3PROTO);
    if (family != AF_INET && family != AF_INET6) return NFCT_CB_CONTINUE;
    e.orig =
        CtTuple{endpoint(ct, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, ATTR_ORIG_PORT_SRC),
                endpoint(ct, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, ATTR_ORIG_PORT_DST)};
    e.reply =
        CtTuple{endpoint(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, ATTR_REPL_PORT_SRC),
                endpoint(ct, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, ATTR_REPL_PORT_DST)};
    e.timeoutS = nfct_attr_is_set(ct, ATTR_TIMEOUT) ? nfct_get_attr_u32(ct, ATTR_TIMEOUT) : 0;
    (*self->visit_)(e);
    return NFCT_CB_CONTINUE;
  }

  nfct_handle* h_ = nullptr;
  CtLabelBits* single_ = nullptr;
  bool got_ = false;
  CtLabelBits mask_;
  const std::function<void(const LabeledEntry&)>* visit_ = nullptr;
};

CtLabels::CtLabels() : impl_(std::make_unique<CtLabelsImpl>()) {}
CtLabels::~CtLabels() = default;
Status CtLabels::open() { return impl_->open(); }
Status CtLabels::write(const CtTuple& orig, const CtLabelBits& value, const CtLabelBits& mask) {
  return impl_->write(orig, value, mask);
}
Status CtLabels::read(const CtTuple& orig, CtLabelBits& out) { return impl_->read(orig, out); }
Status CtLabels::dump(const CtLabelBits& mask,
                      const std::function<void(const LabeledEntry&)>& visit) {
  return impl_->dump(mask, visit);
}

}  // namespace ftpalg::kernel
