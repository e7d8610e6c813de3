// Expectation mode's rule table (table inet ftpalg_helper), as the daemon names it: built and
// installed by the kernel layer (ftpalg/kernel/helper_rules.h); expectation mode decides when.
#pragma once

#include "ftpalg/kernel/helper_rules.h"

namespace ftpalg::daemon {

using kernel::HelperRuleSpec;
using kernel::helperRulesText;
using kernel::installHelperRules;
using kernel::kHelperObject;
using kernel::kHelperTable;
using kernel::removeHelperRules;

}  // namespace ftpalg::daemon
