// What a complete control line means: a command is paired or announces an endpoint, a reply
// line is tracked within its reply, paired with its command and may announce one; lines of a
// wire form from the wrong side are reported. Wire forms come from wire_forms.h.
#pragma once

#include <cstdint>
#include <string_view>

#include "announce.h"
#include "counters.h"
#include "line_assembler.h"
#include "session.h"

namespace ftpalg::core {

// Where a line was seen.
struct LineContext {
  Session& s;
  Dir dir;
  uint64_t handle;  // the packet that carried the line's last byte
  uint64_t nowNs;
  Actions& out;
};

// Handles whole lines of one session at a time.
class ControlLines {
 public:
  ControlLines(Announcer& announcer, Counters& counters)
      : announcer_(announcer), counters_(counters) {}

  // A framed line (terminator excluded) starting at original seq `lineSeq`.
  void onLine(const LineContext& c, std::string_view line, uint32_t lineSeq);
  // A line that could not be framed: reported when it could have been an announcement.
  void onBadLine(const LineContext& c, std::string_view line, ParseError err);

 private:
  void onCommand(const LineContext& c, std::string_view line, uint32_t lineSeq);
  void onReply(const LineContext& c, std::string_view line, uint32_t lineSeq);
  void onReplyAddress(const LineContext& c, const ReplyLine& r, std::string_view line,
                      uint32_t lineSeq);
  void onAuthTls(const LineContext& c);
  // True when an admitted command now awaits its reply (Pending::Port).
  bool announce(const LineContext& c, const WireForm& form, const AddrParse& p, bool solicited,
                std::string_view line, uint32_t lineSeq);
  void push(Session& s, Pending p);
  Event* event(const LineContext& c, EventKind kind);

  Announcer& announcer_;
  Counters& counters_;
};

// Feeds the lines of one direction of one segment to ControlLines. The address of a line
// spliced early belongs to that line only.
class LineDispatch final : public LineSink {
 public:
  LineDispatch(ControlLines& lines, const LineContext& c) : lines_(lines), c_(c) {}
  bool stopped() override { return c_.s.at(c_.dir).opaque; }
  void onLine(std::string_view line, uint32_t lineSeq) override {
    lines_.onLine(c_, line, lineSeq);
    c_.s.at(c_.dir).earlySpliced = false;
  }
  void onBadLine(std::string_view line, ParseError err) override {
    lines_.onBadLine(c_, line, err);
    c_.s.at(c_.dir).earlySpliced = false;
  }

 private:
  ControlLines& lines_;
  const LineContext& c_;
};

}  // namespace ftpalg::core
