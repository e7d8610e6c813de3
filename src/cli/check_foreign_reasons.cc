#include "cli/check_foreign_reasons.h"

#include <algorithm>

namespace ftpalg::cli {
namespace {

constexpr core::Reason kForeignAddressReasons[] = {
    core::Reason::BounceAddress,
    core::Reason::SpecialAddress,
    core::Reason::PasvAddressMismatch,
};

}  // namespace

std::span<const core::Reason> foreignAddressReasons() { return kForeignAddressReasons; }

bool isForeignAddressReason(std::string_view reason) {
  return std::any_of(std::begin(kForeignAddressReasons), std::end(kForeignAddressReasons),
                     [reason](core::Reason r) { return core::reasonName(r) == reason; });
}

}  // namespace ftpalg::cli
