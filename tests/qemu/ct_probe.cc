// ct_probe: drives the expectation-mode kernel adapters (CtHelper, ExpectationTable) from the
// qemu lane's scenarios, and carries a deliberately small FTP helper on an NFQUEUE ("alg") to
// prove what the kernel does with helped connections: which packets it queues, that an
// expectation created before the verdict makes the data connection RELATED and NATed by
// nat-follow-master, and what it does with a verdict whose payload changed length.
//
//   ct_probe probe                       exit 0 when nfnetlink_cthelper answers, 2 when not
//   ct_probe helper-add [--queue N] [--max M] [--timeout S] [--name NAME]
//   ct_probe helper-enable | helper-disable | helper-del | helper-list [--name NAME]
//   ct_probe expect-add MASTER_SRC MASTER_DST SRC DST   (master without NAT; SRC port 0: any)
//   ct_probe expect-del SRC DST
//   ct_probe expect-list
//   ct_probe alg --queue N [--seconds S] [--hold-ms MS] [--marker FILE] [--rewrite [--no-ct]]
//                [--data-helper NAME]   (named in every expectation: the data connection's helper)
//
// Endpoints are written 198.18.1.2:1234 or [2001:db8::1]:21. The alg mode reads whole FTP
// lines from single segments only (a test tool, not the product): 227/229 from the server and
// PORT/EPRT from the client. For each it creates the expectation (through ExpectationTable)
// before the verdict; with --rewrite it also replaces an announced address that NAT made wrong,
// recomputes the checksums and hands the new packet back with an NFQA_CT attribute, so the
// kernel's NFQUEUE conntrack glue records the length change in seqadj (--no-ct leaves the
// attribute out, to show what happens without it).
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ftpalg/core/ftp_parser.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/core/types.h"
#include "ftpalg/kernel/cthelper.h"
#include "ftpalg/kernel/expectation.h"

namespace {

using ftpalg::Status;
using ftpalg::core::Endpoint;
using ftpalg::core::Family;
using ftpalg::core::IpAddr;
using ftpalg::kernel::CtHelper;
using ftpalg::kernel::CtHelperConfig;
using ftpalg::kernel::CtTuple;
using ftpalg::kernel::ExpectationTable;

volatile std::sig_atomic_t gStop = 0;
void onSignal(int /*sig*/) { gStop = 1; }

int failed(const Status& s) {
  std::fprintf(stderr, "ct_probe: %s\n", s.message().c_str());
  return 1;
}

bool parseNumber(std::string_view s, uint32_t& out) {
  if (s.empty()) {
    return false;
  }
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "198.18.1.2:1234" or "[2001:db8::1]:21".
bool parseEndpoint(std::string_view s, Endpoint& out) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find("]:");
    if (close == std::string_view::npos) {
      return false;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      return false;
    }
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  uint32_t p = 0;
  if (!parseNumber(port, p) || p > 65535) {
    return false;
  }
  const std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), out.addr.bytes.data()) == 1) {
    out.addr.family = Family::V4;
  } else if (inet_pton(AF_INET6, h.c_str(), out.addr.bytes.data()) == 1) {
    out.addr.family = Family::V6;
  } else {
    return false;
  }
  out.port = static_cast<uint16_t>(p);
  return true;
}

std::string text(const Endpoint& e) {
  std::array<char, 64> buf{};
  const size_t n = ftpalg::core::formatEndpoint(e, buf);
  return std::string(buf.data(), n);
}

// Options "--key value" after the subcommand.
struct Options {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> flags;

  [[nodiscard]] const std::string* get(std::string_view key) const {
    for (const auto& [k, v] : named) {
      if (k == key) {
        return &v;
      }
    }
    return nullptr;
  }
  [[nodiscard]] bool has(std::string_view flag) const {
    for (const auto& f : flags) {
      if (f == flag) {
        return true;
      }
    }
    return false;
  }
  bool number(std::string_view key, uint32_t& out) const {
    const std::string* v = get(key);
    return v == nullptr || parseNumber(*v, out);
  }
};

Options parseOptions(int argc, char** argv, int first) {
  static constexpr std::array<std::string_view, 3> kFlags{"--rewrite", "--enable", "--no-ct"};
  Options o;
  for (int i = first; i < argc; ++i) {
    const std::string_view a = argv[i];
    bool isFlag = false;
    for (std::string_view f : kFlags) {
      isFlag = isFlag || a == f;
    }
    if (isFlag) {
      o.flags.emplace_back(a);
    } else if (a.starts_with("--") && i + 1 < argc) {
      o.named.emplace_back(std::string(a), argv[i + 1]);
      ++i;
    } else {
      o.positional.emplace_back(a);
    }
  }
  return o;
}

CtHelperConfig helperConfig(const Options& o, bool& ok) {
  CtHelperConfig cfg;
  uint32_t queue = cfg.queueNum;
  ok = o.number("--queue", queue) && queue <= 65535 && o.number("--max", cfg.maxExpected) &&
       o.number("--timeout", cfg.expectTimeoutS);
  cfg.queueNum = static_cast<uint16_t>(queue);
  if (const std::string* n = o.get("--name")) {
    cfg.name = *n;
  }
  return cfg;
}

int cmdHelper(std::string_view cmd, const Options& o) {
  bool ok = false;
  CtHelper helper(helperConfig(o, ok));
  if (!ok) {
    std::fprintf(stderr, "ct_probe: bad number\n");
    return 64;
  }
  Status s;
  if (cmd == "helper-add") {
    s = helper.install();
    if (s.ok() && o.has("--enable")) {
      s = helper.setEnabled(true);
    }
  } else if (cmd == "helper-enable") {
    s = helper.setEnabled(true);
  } else if (cmd == "helper-disable") {
    s = helper.setEnabled(false);
  } else if (cmd == "helper-del") {
    s = helper.remove();
  } else {
    std::vector<ftpalg::kernel::CtHelperInfo> list;
    s = helper.list(list);
    for (const auto& h : list) {
      std::printf("helper %s family %s proto %u queue %u status %s max %u timeout %u\n",
                  h.name.c_str(), h.l3Family == AF_INET6 ? "ipv6" : "ipv4", h.l4Proto, h.queueNum,
                  h.enabled ? "enabled" : "disabled", h.maxExpected, h.expectTimeoutS);
    }
  }
  return s.ok() ? 0 : failed(s);
}

int cmdExpect(std::string_view cmd, const Options& o) {
  ExpectationTable table;
  if (cmd == "expect-list") {
    std::vector<ftpalg::kernel::ExpectEntry> list;
    if (Status s = table.list(list); !s.ok()) {
      return failed(s);
    }
    for (const auto& e : list) {
      std::printf("expect %s -> %s%s master %s -> %s timeout %u helper %s", text(e.src).c_str(),
                  text(e.dst).c_str(), e.srcPortAny ? " (any source port)" : "",
                  text(e.master.src).c_str(), text(e.master.dst).c_str(), e.timeoutS,
                  e.helper.empty() ? "-" : e.helper.c_str());
      if (e.hasNat) {
        std::printf(" nat %s to %s fn %s",
                    e.natDir == ftpalg::kernel::ExpectDir::Original ? "original" : "reply",
                    text(e.natTo).c_str(), e.fn.empty() ? "-" : e.fn.c_str());
      }
      std::printf("\n");
    }
    return 0;
  }
  const size_t need = cmd == "expect-add" ? 4 : 2;
  const auto& p = o.positional;
  if (p.size() < need) {
    std::fprintf(stderr, "ct_probe: %.*s needs %zu endpoints\n", static_cast<int>(cmd.size()),
                 cmd.data(), need);
    return 64;
  }
  std::vector<Endpoint> eps(p.size());
  for (size_t i = 0; i < p.size(); ++i) {
    if (!parseEndpoint(p[i], eps[i])) {
      std::fprintf(stderr, "ct_probe: bad endpoint %s\n", p[i].c_str());
      return 64;
    }
  }
  ftpalg::core::Expectation x;
  const size_t off = cmd == "expect-add" ? 2 : 0;
  x.src = eps[off];
  x.dst = eps[off + 1];
  x.srcPortAny = x.src.port == 0;
  x.natTo = x.dst;
  // The command line names a master without NAT (NAT is exercised through `alg`).
  const ftpalg::kernel::CtEntry master{{eps[0], eps[1]}, {eps[1], eps[0]}};
  Status s = cmd == "expect-add" ? table.add(master, x) : table.remove(x);
  return s.ok() ? 0 : failed(s);
}

// --- alg: a tiny NFQUEUE consumer -----------------------------------------------------------

struct AlgConfig {
  uint16_t queue = 0;
  uint32_t seconds = 60;
  uint32_t holdMs = 0;
  std::string marker;
  bool rewrite = false;
  bool verdictCt = true;   // send NFQA_CT with a rewritten packet (--no-ct: leave it out)
  std::string dataHelper;  // CTA_EXPECT_HELP_NAME of every expectation (empty: none)
};

using CtPair = ftpalg::kernel::CtEntry;

IpAddr addrOf(const nf_conntrack* ct, int family, nf_conntrack_attr v4, nf_conntrack_attr v6) {
  IpAddr a;
  a.family = family == AF_INET ? Family::V4 : Family::V6;
  std::memcpy(a.bytes.data(), nfct_get_attr(ct, family == AF_INET ? v4 : v6), a.size());
  return a;
}

bool readCt(const nlattr* attr, int family, CtPair& out) {
  std::unique_ptr<nf_conntrack, void (*)(nf_conntrack*)> ct(nfct_new(), nfct_destroy);
  if (!ct || nfct_payload_parse(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr),
                                static_cast<uint16_t>(family), ct.get()) < 0) {
    return false;
  }
  const nf_conntrack* c = ct.get();
  out.orig.src = {addrOf(c, family, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC),
                  ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_SRC))};
  out.orig.dst = {addrOf(c, family, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST),
                  ntohs(nfct_get_attr_u16(c, ATTR_ORIG_PORT_DST))};
  out.reply.src = {addrOf(c, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC),
                   ntohs(nfct_get_attr_u16(c, ATTR_REPL_PORT_SRC))};
  out.reply.dst = {addrOf(c, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST),
                   ntohs(nfct_get_attr_u16(c, ATTR_REPL_PORT_DST))};
  return true;
}

class Alg {
 public:
  explicit Alg(AlgConfig cfg) : cfg_(std::move(cfg)) { table_.setDataHelper(cfg_.dataHelper); }

  int run() {
    nl_ = mnl_socket_open(NETLINK_NETFILTER);
    if (nl_ == nullptr || mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      std::perror("ct_probe alg: netlink socket");
      return 1;
    }
    portId_ = mnl_socket_get_portid(nl_);
    timeval tv{0, 200 * 1000};
    setsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (!configure()) {
      return 1;
    }
    std::printf("alg: bound to queue %u\n", cfg_.queue);
    std::fflush(stdout);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(cfg_.seconds);
    std::vector<char> buf(0xffff + 8192);
    while (gStop == 0 && std::chrono::steady_clock::now() < end) {
      const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          continue;
        }
        std::perror("ct_probe alg: recv");
        return 1;
      }
      if (mnl_cb_run(buf.data(), static_cast<size_t>(n), 0, portId_, &Alg::onMessage, this) < 0) {
        std::perror("ct_probe alg: parse");
        return 1;
      }
    }
    std::printf("alg: done, %u packets, %u announcements, %u expectations, %u rewrites\n", packets_,
                announcements_, expectations_, rewrites_);
    mnl_socket_close(nl_);
    return failures_ == 0 ? 0 : 1;
  }

 private:
  bool configure() {
    std::array<char, 8192> buf;
    nlmsghdr* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, cfg_.queue);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
    if (!sendAck(nlh, "bind")) {
      return false;
    }
    nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, cfg_.queue);
    nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
    return sendAck(nlh, "config");
  }

  bool sendAck(nlmsghdr* nlh, const char* what) {
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
      std::perror(what);
      return false;
    }
    std::array<char, 8192> buf;
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 ||
        mnl_cb_run(buf.data(), static_cast<size_t>(n), seq_, portId_, nullptr, nullptr) < 0) {
      std::fprintf(stderr, "ct_probe alg: %s: %s\n", what, std::strerror(errno));
      return false;
    }
    return true;
  }

  static int onMessage(const nlmsghdr* nlh, void* data) {
    static_cast<Alg*>(data)->onPacket(nlh);
    return MNL_CB_OK;
  }

  // One queued packet: parse, find an announcement, expect, rewrite, verdict. Anything this
  // probe does not understand is accepted unchanged (fail-open: it is a test tool).
  void onPacket(const nlmsghdr* nlh) {
    std::array<nlattr*, NFQA_MAX + 1> attr{};
    if (nfq_nlmsg_parse(nlh, attr.data()) < 0 || attr[NFQA_PACKET_HDR] == nullptr ||
        attr[NFQA_PAYLOAD] == nullptr) {
      return;
    }
    ++packets_;
    const auto* ph =
        static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    const uint32_t id = ntohl(ph->packet_id);
    const std::span<const uint8_t> pkt(
        static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
        mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]));
    const ftpalg::core::PacketParse parsed = ftpalg::core::parsePacket(pkt);
    const bool hasCt = attr[NFQA_CT] != nullptr;
    if (parsed.error != ftpalg::core::PacketError::None) {
      verdict(id, {}, hasCt);
      return;
    }
    const ftpalg::core::PacketView& v = parsed.view;
    const int family = v.family == Family::V4 ? AF_INET : AF_INET6;
    std::printf("alg: queued id %u hook %u %s -> %s len %zu ct %s\n", id, ph->hook,
                text({v.src, v.sport}).c_str(), text({v.dst, v.dport}).c_str(), v.payload.size(),
                hasCt ? "yes" : "no");
    CtPair ct;
    if (v.payload.empty() || !hasCt || !readCt(attr[NFQA_CT], family, ct)) {
      verdict(id, {}, hasCt);
      return;
    }
    std::string_view line(reinterpret_cast<const char*>(v.payload.data()), v.payload.size());
    const size_t eol = line.find("\r\n");
    if (eol == std::string_view::npos) {
      verdict(id, {}, true);
      return;
    }
    line = line.substr(0, eol);
    std::vector<uint8_t> out;
    handleLine(pkt, v, ct, line, out);
    verdict(id, out, true);
  }

  void handleLine(std::span<const uint8_t> pkt, const ftpalg::core::PacketView& v, const CtPair& ct,
                  std::string_view line, std::vector<uint8_t>& out) {
    using ftpalg::core::AddrParse;
    using ftpalg::core::ParseStatus;
    AddrParse a;
    char kind = 0;  // 'p' passive reply (227/229), 'a' active command (PORT/EPRT)
    if (line.starts_with("227 ")) {
      a = ftpalg::core::parse227(line);
      kind = 'p';
    } else if (line.starts_with("229 ")) {
      a = ftpalg::core::parse229(line);
      kind = 'p';
    } else if (line.starts_with("PORT ")) {
      a = ftpalg::core::parsePort(line);
      kind = 'a';
    } else if (line.starts_with("EPRT ")) {
      a = ftpalg::core::parseEprt(line);
      kind = 'a';
    } else {
      return;
    }
    if (a.status != ParseStatus::Ok) {
      std::printf("alg: unparsable announcement: %.*s\n", static_cast<int>(line.size()),
                  line.data());
      ++failures_;
      return;
    }
    ++announcements_;
    // Passive: the client dials the address it used for the control connection; the kernel
    // sends it on to the server's real address. Active: the server dials the client's outside
    // address; the kernel sends it on to the client's inside address.
    ftpalg::core::Expectation x;
    Endpoint wanted;  // what the announcement must say on the wire after this hop
    if (kind == 'p') {
      x.src = {ct.orig.src.addr, 0};
      x.dst = {ct.orig.dst.addr, a.ep.port};
      x.natTo = {ct.reply.src.addr, a.ep.port};
      wanted = x.dst;
    } else {
      x.src = {ct.reply.src.addr, 0};
      x.dst = {ct.reply.dst.addr, a.ep.port};
      x.natTo = {ct.orig.src.addr, a.ep.port};
      wanted = x.dst;
    }
    x.srcPortAny = true;
    std::printf("alg: %.*s -> expect %s -> %s nat to %s\n", static_cast<int>(line.size()),
                line.data(), text(x.src).c_str(), text(x.dst).c_str(), text(x.natTo).c_str());
    if (Status s = table_.add(ct, x); !s.ok()) {
      std::printf("alg: %s\n", s.message().c_str());
      ++failures_;
      return;
    }
    ++expectations_;
    if (!cfg_.marker.empty()) {
      std::ofstream(cfg_.marker) << text(x.dst) << "\n";
    }
    std::fflush(stdout);
    if (cfg_.holdMs > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(cfg_.holdMs));
    }
    if (!cfg_.rewrite || !a.hasAddr || a.ep.addr == wanted.addr) {
      return;
    }
    std::array<char, 80> repl{};
    size_t n = 0;
    if (line.starts_with("EPRT ")) {
      n = ftpalg::core::formatEprtText(wanted, a.delim, repl);
    } else {
      n = ftpalg::core::formatPortText(wanted, repl);
    }
    if (n == 0) {
      ++failures_;
      return;
    }
    std::vector<uint8_t> payload(v.payload.begin(), v.payload.end());
    payload.erase(payload.begin() + a.span.offset, payload.begin() + a.span.offset + a.span.length);
    payload.insert(payload.begin() + a.span.offset, repl.begin(), repl.begin() + n);
    out.resize(pkt.size() + 128);
    std::vector<ftpalg::core::SackBlock> sack(v.sack.begin(), v.sack.begin() + v.sackCount);
    const size_t len = ftpalg::core::rebuildPacket(pkt, v, v.seq, v.ack, sack, payload, out);
    if (len == 0) {
      out.clear();
      ++failures_;
      return;
    }
    out.resize(len);
    ++rewrites_;
    std::printf("alg: rewrote %s to %s, length %+d\n", text(a.ep).c_str(), text(wanted).c_str(),
                static_cast<int>(len) - static_cast<int>(pkt.size()));
  }

  // NF_ACCEPT, with the replacement packet when there is one, and an (empty) NFQA_CT nest so
  // the kernel looks up the packet's conntrack entry and applies seqadj on a length change.
  void verdict(uint32_t id, std::span<const uint8_t> replacement, bool withCt) {
    std::vector<char> buf(8192 + replacement.size());
    nlmsghdr* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_VERDICT, cfg_.queue);
    nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), NF_ACCEPT);
    if (!replacement.empty()) {
      nfq_nlmsg_verdict_put_pkt(nlh, replacement.data(), static_cast<uint32_t>(replacement.size()));
      if (withCt && cfg_.verdictCt) {
        nlattr* nest = mnl_attr_nest_start(nlh, NFQA_CT);
        mnl_attr_nest_end(nlh, nest);
      }
    }
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
      std::perror("ct_probe alg: verdict");
      ++failures_;
    }
    std::fflush(stdout);
  }

  AlgConfig cfg_;
  ExpectationTable table_;
  mnl_socket* nl_ = nullptr;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
  uint32_t packets_ = 0;
  uint32_t announcements_ = 0;
  uint32_t expectations_ = 0;
  uint32_t rewrites_ = 0;
  uint32_t failures_ = 0;
};

int cmdAlg(const Options& o) {
  AlgConfig cfg;
  uint32_t queue = 0;
  if (!o.number("--queue", queue) || queue > 65535 || !o.number("--seconds", cfg.seconds) ||
      !o.number("--hold-ms", cfg.holdMs)) {
    std::fprintf(stderr, "ct_probe: bad number\n");
    return 64;
  }
  cfg.queue = static_cast<uint16_t>(queue);
  if (const std::string* m = o.get("--marker")) {
    cfg.marker = *m;
  }
  cfg.rewrite = o.has("--rewrite");
  cfg.verdictCt = !o.has("--no-ct");
  if (const std::string* d = o.get("--data-helper")) {
    cfg.dataHelper = *d;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  return Alg(cfg).run();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ct_probe probe|helper-*|expect-*|alg ...\n");
    return 64;
  }
  const std::string_view cmd = argv[1];
  const Options o = parseOptions(argc, argv, 2);
  if (cmd == "probe") {
    const Status s = CtHelper::probe();
    if (s.ok()) {
      std::printf("cthelper: available\n");
      return 0;
    }
    std::printf("cthelper: unavailable (%s)\n", s.message().c_str());
    return 2;
  }
  if (cmd.starts_with("helper-")) {
    return cmdHelper(cmd, o);
  }
  if (cmd.starts_with("expect-")) {
    return cmdExpect(cmd, o);
  }
  if (cmd == "alg") {
    return cmdAlg(o);
  }
  std::fprintf(stderr, "ct_probe: unknown command %s\n", argv[1]);
  return 64;
}
