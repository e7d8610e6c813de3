// The journal entry of an event: the fields `journalctl FTPALG_VERDICT=refuse` selects on, one
// fixed MESSAGE_ID per class, PRIORITY by class, MESSAGE the log line. Pure, no journal needed.
#include "daemon/journal_fields.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Event;
using core::EventKind;
using core::Reason;
using core::Verdict;
using daemon::EventClass;

Event refusedPasv() {
  Event e;
  e.flow = {endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21")};
  e.dir = core::Dir::S2C;
  e.kind = EventKind::Pasv227;
  e.verdict = Verdict::Refuse;
  e.reason = Reason::PasvAddressMismatch;
  e.hasAnnounced = true;
  e.announced = endpoint("172.17.0.2:40001");
  return e;
}

Event rewrittenPort() {
  Event e;
  e.flow = {endpoint("10.0.0.2:40000"), endpoint("198.19.0.2:21")};
  e.kind = EventKind::Port;
  e.verdict = Verdict::Admit;
  e.reason = Reason::Rewritten;
  e.hasAnnounced = true;
  e.announced = endpoint("10.0.0.2:50000");
  e.hasRewritten = true;
  e.rewritten = endpoint("198.51.100.7:50000");
  e.hasExpect = true;
  e.expect.src = endpoint("198.19.0.2:0");
  e.expect.dst = endpoint("198.51.100.7:50000");
  e.expect.natTo = endpoint("10.0.0.2:50000");
  return e;
}

bool has(const std::vector<std::string>& f, const std::string& field) {
  return std::find(f.begin(), f.end(), field) != f.end();
}

TEST(JournalFields, RefusalCarriesTheFieldsAdminsSelectOn) {
  const auto f = daemon::journalFields(refusedPasv(), "pinhole", 3);
  EXPECT_EQ(f.front(),
            "MESSAGE=ftpalgd: warning: queue 3: refuse pasv227 172.17.0.2:40001 "
            "(pasv_address_mismatch) flow 198.18.0.2:40000-198.19.0.2:21");
  EXPECT_TRUE(has(f, "MESSAGE_ID=be36de0065e840d0a9d90e39b45e5e45"));
  EXPECT_TRUE(has(f, "PRIORITY=4"));
  EXPECT_TRUE(has(f, "FTPALG_CLASS=refuse"));
  EXPECT_TRUE(has(f, "FTPALG_VERDICT=refuse"));
  EXPECT_TRUE(has(f, "FTPALG_REASON=pasv_address_mismatch"));
  EXPECT_TRUE(has(f, "FTPALG_KIND=pasv227"));
  EXPECT_TRUE(has(f, "FTPALG_DIR=s2c"));
  EXPECT_TRUE(has(f, "FTPALG_FLOW=198.18.0.2:40000-198.19.0.2:21"));
  EXPECT_TRUE(has(f, "FTPALG_CLIENT=198.18.0.2:40000"));
  EXPECT_TRUE(has(f, "FTPALG_SERVER=198.19.0.2:21"));
  EXPECT_TRUE(has(f, "FTPALG_ANNOUNCED=172.17.0.2:40001"));
  EXPECT_TRUE(has(f, "FTPALG_QUEUE=3"));
  EXPECT_TRUE(has(f, "SYSLOG_IDENTIFIER=ftpalgd"));
  for (const std::string& field : f) {
    EXPECT_EQ(field.find('\n'), std::string::npos) << field;  // one line each
    EXPECT_NE(field.find('='), std::string::npos) << field;
    EXPECT_NE(field.rfind("FTPALG_REWRITTEN", 0), 0u) << "nothing was rewritten";
  }
}

TEST(JournalFields, RewriteCarriesAnnouncedRewrittenAndExpectation) {
  const auto f = daemon::journalFields(rewrittenPort(), "pinhole", 0);
  EXPECT_TRUE(has(f, "MESSAGE_ID=79a5ca18305f4ee8922ea116815b814c"));
  EXPECT_TRUE(has(f, "PRIORITY=6"));
  EXPECT_TRUE(has(f, "FTPALG_VERDICT=admit"));
  EXPECT_TRUE(has(f, "FTPALG_ANNOUNCED=10.0.0.2:50000"));
  EXPECT_TRUE(has(f, "FTPALG_REWRITTEN=198.51.100.7:50000"));
  EXPECT_TRUE(has(f, "FTPALG_EXPECT_SRC=198.19.0.2:any"));
  EXPECT_TRUE(has(f, "FTPALG_EXPECT_DST=198.51.100.7:50000"));
  EXPECT_TRUE(has(f, "FTPALG_EXPECT_NAT_TO=10.0.0.2:50000"));
  EXPECT_EQ(f.front().rfind("MESSAGE=ftpalgd: info: queue 0: admit port 10.0.0.2:50000 -> "
                            "198.51.100.7:50000 (rewritten) pinhole 198.19.0.2:any -> ",
                            0),
            0u)
      << f.front();
}

TEST(JournalFields, ClassesByVerdictReasonAndKind) {
  Event e = rewrittenPort();
  EXPECT_EQ(daemon::classify(e), EventClass::Rewrite);
  e.hasRewritten = false;
  EXPECT_EQ(daemon::classify(e), EventClass::Admit);
  e = refusedPasv();
  EXPECT_EQ(daemon::classify(e), EventClass::Refuse);
  e.reason = Reason::DataKeysFull;
  EXPECT_EQ(daemon::classify(e), EventClass::Limit);
  e.reason = Reason::SessionTableFull;
  EXPECT_EQ(daemon::classify(e), EventClass::Limit);
  e.kind = EventKind::Withdraw;
  e.verdict = Verdict::Pass;
  e.reason = Reason::ServerRefused;
  EXPECT_EQ(daemon::classify(e), EventClass::Withdraw);
  e.kind = EventKind::Desync;
  EXPECT_EQ(daemon::classify(e), EventClass::Anomaly);
  e.kind = EventKind::AuthTls;
  EXPECT_EQ(daemon::classify(e), EventClass::Lifecycle);
}

TEST(JournalFields, MessageIdsAreFixedDistinct128BitIds) {
  std::set<std::string_view> ids;
  for (size_t i = 0; i < static_cast<size_t>(EventClass::Count); ++i) {
    const std::string_view id = daemon::messageId(static_cast<EventClass>(i));
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string_view::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(EventClass::Count));
  // Documented in docs/daemon.md and filtered on by admins: never change one.
  EXPECT_EQ(daemon::messageId(EventClass::Admit), "e899b98ac17b432a942b883085c47425");
  EXPECT_EQ(daemon::messageId(EventClass::Limit), "f87b18d1475e45e1b244d6114b71e631");
}

TEST(JournalFields, SuppressedSummaryIsALimitEntry) {
  const auto f = daemon::suppressedFields(7, 3, 1);
  EXPECT_TRUE(has(f, "MESSAGE_ID=f87b18d1475e45e1b244d6114b71e631"));
  EXPECT_TRUE(has(f, "FTPALG_KIND=suppressed"));
  EXPECT_TRUE(has(f, "FTPALG_SUPPRESSED=10"));
  EXPECT_TRUE(has(f, "FTPALG_QUEUE=1"));
}

}  // namespace
}  // namespace ftpalg::test
