// Text of pinhole mode's nftables configuration, for `ftpalg rules`, describe() and docs.
#pragma once

#include <string>

#include "ftpalg/kernel/pinhole.h"

namespace ftpalg::kernel {

// The table exactly as PinholeTable::install() creates it, in `nft -f` syntax.
std::string pinholeTableText(const PinholeConfig& cfg);

// What `ftpalg rules` prints: the table above (ftpalgd installs it itself; shown for review)
// followed by the rules the admin adds to their own forward chain, with the mark configured.
std::string rulesText(const PinholeConfig& cfg);

}  // namespace ftpalg::kernel
