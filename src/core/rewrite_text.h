// The text that replaces an announced address in its line, or the reason it cannot be written:
// a form that cannot carry the address (PORT and IPv6), or an EPRT/229 delimiter that occurs in
// the rewritten address text (the line would no longer parse back).
#pragma once

#include <array>
#include <cstddef>

#include "ftpalg/core/engine.h"
#include "wire_forms.h"

namespace ftpalg::core {

// The formatted text (text[0..len)) or, with len == 0, why there is none.
struct RewriteText {
  std::array<char, 80> text{};
  size_t len = 0;
  Reason why = Reason::Ok;  // Ok, UnwritableAddress or DelimiterInAddress
};

// Formats `ep` as form `form` writes it, with the line's delimiter `delim` (EPRT/229).
RewriteText rewriteText(const WireForm& form, const Endpoint& ep, char delim);

}  // namespace ftpalg::core
