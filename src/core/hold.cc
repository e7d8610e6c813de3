#include "hold.h"

#include <algorithm>
#include <cstring>

#include "seq_math.h"
#include "wire_forms.h"

namespace ftpalg::core {

namespace {

HoldDecision pass() { return HoldDecision{}; }

HoldDecision holdFrom(uint32_t at) {
  HoldDecision d;
  d.kind = HoldDecision::Kind::HoldFrom;
  d.at = at;
  return d;
}

// A reply may carry its address anywhere: hold the whole line, but only when the server's
// announcement would be rewritten at all (behind DNAT, or a wrong address to the peer's).
HoldDecision decideReply(const HoldInput& in) {
  if (!in.holdReplies && in.nat->serverInside == in.nat->serverOutside) return pass();
  if (!mayBeAnnouncingReply(in.prefix, in.reply->inMulti, in.reply->code)) return pass();
  return holdFrom(in.lineStart);
}

// The verb and its space are never rewritten. Of the address text, the part that reads the
// same for the client's inside and outside address can pass too; the rest is held until the
// address is complete, then spliced at once, so a sender limited by its congestion window (one
// byte per segment) is never left waiting on bytes held here.
HoldDecision decideAddress(const HoldInput& in, const WireForm& form) {
  const size_t lead = form.lead.size() + 1;
  const std::string_view rest = in.prefix.substr(lead);
  if (form.delimited && rest.empty()) return pass();
  const char delim = form.delimited ? rest[0] : ',';
  std::array<char, 64> inside{};
  std::array<char, 64> outside{};
  const size_t ni = form.addressPrefix(in.nat->clientInside, delim, inside);
  const size_t no = form.addressPrefix(in.nat->clientOutside, delim, outside);
  if (ni == 0 || no == 0) return pass();
  const std::string_view inText(inside.data(), ni);
  const std::string_view outText(outside.data(), no);
  const size_t seen = std::min(rest.size(), ni);
  if (rest.substr(0, seen) != inText.substr(0, seen)) return pass();  // not the client's address
  size_t common = 0;
  while (common < ni && common < no && inText[common] == outText[common]) ++common;
  const uint32_t spliceAt = in.lineStart + static_cast<uint32_t>(lead + common);
  if (rest.size() < ni) return rest.size() > common ? holdFrom(spliceAt) : pass();
  // Bytes already forwarded cannot be spliced: decided when the line completes (refused there).
  if (seqLt(spliceAt, in.released)) return holdFrom(spliceAt);
  HoldDecision d;
  d.kind = HoldDecision::Kind::SpliceNow;
  d.at = spliceAt;
  d.origLen = static_cast<uint16_t>(ni - common);
  d.textLen = static_cast<uint8_t>(no - common);
  std::memcpy(d.text.data(), outText.data() + common, no - common);
  return d;
}

}  // namespace

HoldDecision decideHold(const HoldInput& in) {
  if (in.prefix.empty()) return pass();
  if (in.dir == Dir::S2C) return decideReply(in);
  // Without NAT nothing is rewritten: the line is inspected when it completes, before the
  // packet that completes it is released, and nothing needs to wait.
  if (in.nat->clientInside == in.nat->clientOutside || in.earlySpliced) return pass();
  if (!mayBeAnnouncingCommand(in.prefix)) return pass();
  const WireForm* form = commandFormOfPrefix(in.prefix);
  if (form == nullptr || form->addressPrefix == nullptr) {
    // A verb still being typed is never rewritten; LPRT (policy-disabled by default) and
    // anything unusual is held whole.
    if (in.prefix.size() <= 4) return pass();
    return holdFrom(in.lineStart);
  }
  return decideAddress(in, *form);
}

}  // namespace ftpalg::core
