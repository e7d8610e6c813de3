#include "daemon/ct_state_takeover.h"

#include <fmt/format.h>
#include <time.h>

#include <atomic>
#include <utility>
#include <vector>

#include "daemon/clock.h"
#include "daemon/ct_state_record.h"
#include "daemon/log.h"
#include "daemon/status_json.h"
#include "daemon/text.h"
#include "ftpalg/report/event_json.h"

namespace ftpalg::daemon {
namespace {

std::atomic<CtStateTakeover*> gTakeover{nullptr};

// rememberTakeoverTuple's table.
struct TupleSlot {
  core::FlowKey flow;
  kernel::CtTuple orig;
  bool used = false;
};
constexpr size_t kTupleSlots = 16384;
std::mutex gTuplesMu;
std::vector<TupleSlot> gTuples;

size_t tupleSlot(const core::FlowKey& flow) {
  uint64_t h = 1469598103934665603ULL;
  for (const core::Endpoint* e : {&flow.client, &flow.server}) {
    for (uint8_t b : e->addr.bytes) h = (h ^ b) * 1099511628211ULL;
    h = (h ^ e->port) * 1099511628211ULL;
  }
  return static_cast<size_t>(h % kTupleSlots);
}

uint64_t realNowS() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec);
}

// The control connection's binding as the entry's tuples give it (ct_tuples.h's mapping).
core::NatBinding bindingOf(const kernel::LabeledEntry& e) {
  core::NatBinding b;
  b.clientInside = e.orig.src.addr;
  b.serverInside = e.orig.dst.addr;
  b.serverOutside = e.reply.src.addr;
  b.clientOutside = e.reply.dst.addr;
  return b;
}

// {"kind":"takeover","reason":R,"flow":"C-S","dir":"s2c","expect":{...},"timeout_s":N,
//  "verdict":"admit"|"error"}
std::string eventLine(std::string_view reason, const kernel::LabeledEntry& e, core::Dir dir,
                      const core::Expectation& x, uint32_t leftS, const Status& st) {
  fmt::memory_buffer buf;
  report::JsonWriter w(buf);
  w.beginObject();
  w.key("kind");
  w.string("takeover");
  w.key("reason");
  w.string(reason);
  w.key("flow");
  w.string(flowText(core::FlowKey{e.orig.src, e.reply.src}));
  w.key("dir");
  w.string(dir == core::Dir::C2S ? "c2s" : "s2c");
  w.key("expect");
  w.beginObject();
  w.key("src");
  w.string(ipText(x.src.addr));
  w.key("dst");
  w.string(endpointText(x.dst));
  w.key("nat_to");
  w.string(endpointText(x.natTo));
  if (x.hasSrcNat) {
    w.key("src_nat_to");
    w.string(ipText(x.srcNatTo));
  }
  w.endObject();
  w.key("timeout_s");
  w.number(uint64_t{leftS});
  w.key("verdict");
  w.string(st.ok() ? "admit" : "error");
  w.endObject();
  buf.push_back('\n');
  return fmt::to_string(buf);
}

}  // namespace

CtStateTakeover::CtStateTakeover(kernel::PinholeConfig pinhole, unsigned firstBit,
                                 EventSink* events)
    : pinhole_(pinhole), firstBit_(firstBit), events_(events), table_(std::move(pinhole)) {}

TakeoverResult CtStateTakeover::run(std::string_view reason) {
  const std::lock_guard<std::mutex> lock(mu_);
  TakeoverResult r;
  const uint64_t start = monotonicNs();
  const uint64_t now = realNowS();
  const uint32_t maxS = pinhole_.timeoutMs / 1000;
  std::string lines;
  r.status = labels_.dump(stateRecordMask(firstBit_), [&](const kernel::LabeledEntry& e) {
    ++r.entries;
    rememberTakeoverTuple(core::FlowKey{e.orig.src, e.reply.src}, e.orig);
    CtStateRecord rec;
    if (decodeStateRecord(e.labels, firstBit_, rec) != RecordError::None) {
      ++r.refused;
      return;
    }
    if (rec.delta[0] != 0 || rec.delta[1] != 0) ++r.shifted;
    if (!rec.hasAnnouncement) return;
    const uint32_t left = std::min(secondsLeft(rec.expiry, now), maxS);
    if (left == 0) {
      ++r.expired;
      return;
    }
    if (r.pinholes + r.failed >= kMaxPinholes) {
      ++r.skipped;
      return;
    }
    const core::Expectation x = expectationOf(rec, bindingOf(e));
    const Status st = table_.admit(x, left * 1000);
    ++(st.ok() ? r.pinholes : r.failed);
    if (!st.ok()) {
      logf(LogLevel::Warning, "takeover: pinhole {} -> {} of {}: {}", ipText(x.src.addr),
           endpointText(x.dst), flowText(core::FlowKey{e.orig.src, e.reply.src}), st.message());
    }
    if (events_ != nullptr && events_->enabled()) {
      lines += eventLine(reason, e, rec.dir, x, left, st);
    }
  });
  if (!lines.empty()) events_->write(lines);
  r.elapsedUs = (monotonicNs() - start) / 1000;
  logf(r.status.ok() && r.failed == 0 ? LogLevel::Info : LogLevel::Warning,
       "takeover ({}): {} entries with ftpalg labels ({} refused, {} shifted), {} pinholes "
       "re-created, {} expired, {} failed, {} skipped in {} us{}",
       reason, r.entries, r.refused, r.shifted, r.pinholes, r.expired, r.failed, r.skipped,
       r.elapsedUs, r.status.ok() ? std::string() : "; dump: " + r.status.message());
  return r;
}

std::string takeoverJson(const TakeoverResult& r) {
  fmt::memory_buffer buf;
  report::JsonWriter w(buf);
  w.beginObject();
  w.key("schema");
  w.number(uint64_t{1});
  w.key("takeover");
  w.beginObject();
  const std::pair<std::string_view, size_t> rows[] = {
      {"entries", r.entries},   {"refused", r.refused}, {"shifted", r.shifted},
      {"pinholes", r.pinholes}, {"expired", r.expired}, {"failed", r.failed},
      {"skipped", r.skipped}};
  for (const auto& [k, v] : rows) {
    w.key(k);
    w.number(uint64_t{v});
  }
  w.key("elapsed_us");
  w.number(r.elapsedUs);
  if (!r.status.ok()) {
    w.key("error");
    w.string(r.status.message());
  }
  w.endObject();
  w.endObject();
  return fmt::to_string(buf);
}

std::unique_ptr<CtStateTakeover> startTakeover(const DaemonConfig& cfg,
                                               const kernel::PinholeConfig& pinhole,
                                               EventSink& events) {
  if (!cfg.conntrackState) return nullptr;
  auto t = std::make_unique<CtStateTakeover>(pinhole, cfg.conntrackStateBit, &events);
  (void)t->run("start");
  registerTakeover(t.get());
  return t;
}

void rememberTakeoverTuple(const core::FlowKey& flow, const kernel::CtTuple& orig) {
  const std::lock_guard<std::mutex> lock(gTuplesMu);
  if (gTuples.empty()) gTuples.resize(kTupleSlots);
  gTuples[tupleSlot(flow)] = TupleSlot{flow, orig, true};
}

bool takeoverTuple(const core::FlowKey& flow, kernel::CtTuple& orig) {
  const std::lock_guard<std::mutex> lock(gTuplesMu);
  if (gTuples.empty()) return false;
  const TupleSlot& s = gTuples[tupleSlot(flow)];
  if (!s.used || !(s.flow == flow)) return false;
  orig = s.orig;
  return true;
}

void registerTakeover(CtStateTakeover* t) { gTakeover.store(t); }
CtStateTakeover* registeredTakeover() { return gTakeover.load(); }

std::string takeoverAnswer() {
  CtStateTakeover* t = registeredTakeover();
  if (t == nullptr) {
    return errorResponse("unavailable",
                         "takeover needs pinhole mode with conntrack_state = labels");
  }
  return takeoverJson(t->run("control"));
}

}  // namespace ftpalg::daemon
