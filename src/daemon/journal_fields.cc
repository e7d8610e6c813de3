#include "daemon/journal_fields.h"

#include <fmt/format.h>

#include "daemon/text.h"
#include "ftpalg/name_table.h"

namespace ftpalg::daemon {
namespace {

// Fixed forever: admins filter on them (journalctl MESSAGE_ID=...), as on systemd's catalog.
struct ClassRow {
  EventClass cls;
  std::string_view name;
  std::string_view id;
  int priority;
};
constexpr ClassRow kClasses[] = {
    {EventClass::Admit, "admit", "e899b98ac17b432a942b883085c47425", 6},
    {EventClass::Rewrite, "rewrite", "79a5ca18305f4ee8922ea116815b814c", 6},
    {EventClass::Refuse, "refuse", "be36de0065e840d0a9d90e39b45e5e45", 4},
    {EventClass::Withdraw, "withdraw", "8e078f3bad344af58757baa45a5147b2", 6},
    {EventClass::Limit, "limit", "f87b18d1475e45e1b244d6114b71e631", 4},
    {EventClass::Anomaly, "anomaly", "041002a8145647daa23b6178f576d0d2", 4},
    {EventClass::Lifecycle, "lifecycle", "97aaff0bf5c4492098e6617af6e2a9cf", 6},
};
static_assert(std::size(kClasses) == static_cast<size_t>(EventClass::Count));

constexpr bool rowsInOrder() {
  for (size_t i = 0; i < std::size(kClasses); ++i) {
    if (static_cast<size_t>(kClasses[i].cls) != i) return false;
  }
  return true;
}
static_assert(rowsInOrder(), "kClasses is indexed by EventClass");

const ClassRow& row(EventClass c) { return kClasses[static_cast<size_t>(c)]; }

// Refusals for want of room rather than by policy.
bool isLimit(core::Reason r) {
  using core::Reason;
  return r == Reason::SessionTableFull || r == Reason::RewriteTableFull ||
         r == Reason::TooManyExpectations || r == Reason::NoFreePort || r == Reason::DataKeysFull ||
         r == Reason::NoBuffer || r == Reason::LineTooLong;
}

void header(std::vector<std::string>& f, std::string message, EventClass c) {
  f.push_back("MESSAGE=" + message);
  f.push_back(fmt::format("MESSAGE_ID={}", row(c).id));
  f.push_back(fmt::format("PRIORITY={}", row(c).priority));
  f.emplace_back("SYSLOG_IDENTIFIER=ftpalgd");
  f.push_back(fmt::format("FTPALG_CLASS={}", row(c).name));
}

}  // namespace

std::string_view eventClassName(EventClass c) { return row(c).name; }
std::string_view messageId(EventClass c) { return row(c).id; }
int priorityOf(EventClass c) { return row(c).priority; }

EventClass classify(const core::Event& ev) {
  using core::EventKind;
  if (ev.kind == EventKind::Withdraw) return EventClass::Withdraw;
  switch (ev.verdict) {
    case core::Verdict::Admit:
      return ev.hasRewritten ? EventClass::Rewrite : EventClass::Admit;
    case core::Verdict::Refuse:
      return isLimit(ev.reason) ? EventClass::Limit : EventClass::Refuse;
    case core::Verdict::Pass:
      break;
  }
  const bool anomaly = ev.kind == EventKind::Evasion || ev.kind == EventKind::Malformed ||
                       ev.kind == EventKind::Desync;
  return anomaly ? EventClass::Anomaly : EventClass::Lifecycle;
}

std::string eventMessage(const core::Event& ev, std::string_view admitWord) {
  const std::string_view kind = core::eventKindName(ev.kind);
  const std::string announced = ev.hasAnnounced ? endpointText(ev.announced) : "-";
  if (ev.kind == core::EventKind::Withdraw || ev.verdict == core::Verdict::Pass) {
    return fmt::format("{} ({}) flow {}", kind, core::reasonName(ev.reason), flowText(ev.flow));
  }
  if (ev.verdict == core::Verdict::Refuse) {
    const bool pe = ev.parseError != core::ParseError::None;
    return fmt::format("refuse {} {} ({}{}{}) flow {}", kind, announced,
                       core::reasonName(ev.reason), pe ? ": " : "",
                       pe ? core::parseErrorName(ev.parseError) : "", flowText(ev.flow));
  }
  std::string text = fmt::format("admit {} {}", kind, announced);
  if (ev.hasRewritten) text += fmt::format(" -> {} (rewritten)", endpointText(ev.rewritten));
  if (ev.hasExpect) {
    const core::Expectation& x = ev.expect;
    text += fmt::format(" {} {}:{} -> {}", admitWord, ipText(x.src.addr),
                        x.srcPortAny ? std::string("any") : std::to_string(x.src.port),
                        endpointText(x.dst));
    if (!(x.natTo == x.dst)) text += fmt::format(" nat-to {}", endpointText(x.natTo));
  }
  return text + fmt::format(" flow {}", flowText(ev.flow));
}

std::vector<std::string> journalFields(const core::Event& ev, std::string_view admitWord,
                                       uint16_t queue) {
  std::vector<std::string> f;
  f.reserve(20);
  // MESSAGE is the log line ftpalgd writes to stderr without a journal, word for word.
  const EventClass c = classify(ev);
  header(f,
         fmt::format("ftpalgd: {}: queue {}: {}", priorityOf(c) < 6 ? "warning" : "info", queue,
                     eventMessage(ev, admitWord)),
         c);
  f.push_back("FTPALG_FLOW=" + flowText(ev.flow));
  f.push_back("FTPALG_CLIENT=" + endpointText(ev.flow.client));
  f.push_back("FTPALG_SERVER=" + endpointText(ev.flow.server));
  f.push_back(fmt::format("FTPALG_DIR={}", ev.dir == core::Dir::C2S ? "c2s" : "s2c"));
  f.push_back(fmt::format("FTPALG_KIND={}", core::eventKindName(ev.kind)));
  f.push_back(fmt::format("FTPALG_VERDICT={}", core::verdictName(ev.verdict)));
  f.push_back(fmt::format("FTPALG_REASON={}", core::reasonName(ev.reason)));
  if (ev.parseError != core::ParseError::None) {
    f.push_back(fmt::format("FTPALG_PARSE_ERROR={}", core::parseErrorName(ev.parseError)));
  }
  if (ev.hasAnnounced) f.push_back("FTPALG_ANNOUNCED=" + endpointText(ev.announced));
  if (ev.hasRewritten) f.push_back("FTPALG_REWRITTEN=" + endpointText(ev.rewritten));
  if (ev.hasExpect) {
    const core::Expectation& x = ev.expect;
    f.push_back(fmt::format("FTPALG_EXPECT_SRC={}:{}", ipText(x.src.addr),
                            x.srcPortAny ? std::string("any") : std::to_string(x.src.port)));
    f.push_back("FTPALG_EXPECT_DST=" + endpointText(x.dst));
    if (!(x.natTo == x.dst)) f.push_back("FTPALG_EXPECT_NAT_TO=" + endpointText(x.natTo));
  }
  f.push_back(fmt::format("FTPALG_QUEUE={}", queue));
  return f;
}

std::vector<std::string> suppressedFields(uint64_t bySession, uint64_t byGlobal, uint16_t queue) {
  std::vector<std::string> f;
  header(f,
         fmt::format("{} events suppressed ({} over a session's budget, {} over the queue's)",
                     bySession + byGlobal, bySession, byGlobal),
         EventClass::Limit);
  f.emplace_back("FTPALG_KIND=suppressed");
  f.push_back(fmt::format("FTPALG_SUPPRESSED={}", bySession + byGlobal));
  f.push_back(fmt::format("FTPALG_QUEUE={}", queue));
  return f;
}

std::vector<std::string> daemonFields(EventClass c, std::string_view message) {
  std::vector<std::string> f;
  header(f, std::string(message), c);
  return f;
}

}  // namespace ftpalg::daemon
