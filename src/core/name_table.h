// The core's enum-to-name tables use the common ones (ftpalg/name_table.h).
#pragma once

#include "ftpalg/name_table.h"

namespace ftpalg::core {

using ftpalg::completeNameTable;
using ftpalg::nameOf;
using ftpalg::NameRow;

}  // namespace ftpalg::core
