// Keeps the pinhole table (ftpalg/kernel/pinhole.h) across restarts and against deletion.
//
// A successor adopts the table its predecessor left: the elements (pinholes and NAT map
// entries) keep their remaining timeouts, so an announcement made just before a restart is
// still admitted. The table carries an nft comment naming the layout fingerprint of the version
// that built it (a hash of the messages appendEnsure sends for this configuration); check()
// compares it and reads the chains, rules and sets back against that same list of messages.
// ensure() repairs a table without deleting it (one transaction: add what is missing, replace
// the chains' rules, keep the sets); a table of another layout is rebuilt, and its elements are
// copied into the new sets with their remaining timeouts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

// What check() found.
enum class TableState : uint8_t {
  Intact,       // our layout, every chain, rule, set and map present
  Missing,      // no such table
  Damaged,      // our layout, but chains, rules, sets or maps are missing
  OtherLayout,  // built by another version or configuration (or not by ftpalgd)
};

// The state of the table and, when not intact, a short reason ("chain pin: 0 of 2 rules").
struct TableCheck {
  TableState state = TableState::Missing;
  std::string why;
};

// What ensure() did.
struct EnsureResult {
  TableCheck before;       // what it found
  bool rebuilt = false;    // deleted and recreated (other layout); elements copied
  size_t pending = 0;      // elements in the table after the call (pinholes, NAT entries)
  size_t lost = 0;         // elements of a rebuilt table that could not be copied
  uint32_t elapsedMs = 0;  // time the call took
};

class PinholeKeeperImpl;

// Not thread-safe; opens a netlink socket per call (never on the packet path).
class PinholeKeeper {
 public:
  explicit PinholeKeeper(PinholeConfig cfg);
  ~PinholeKeeper();
  PinholeKeeper(const PinholeKeeper&) = delete;
  PinholeKeeper& operator=(const PinholeKeeper&) = delete;

  // Reads the table back from the kernel.
  Status check(TableCheck& out);
  // Makes the table intact: creates it when missing, repairs it in place when damaged (keeping
  // every element), rebuilds it when its layout differs (copying the elements).
  Status ensure(EnsureResult& out);
  // Deletes the table (absent is fine).
  Status remove();
  // The nft comment this version puts on the table ("ftpalgd pinholes, layout 1a2b...").
  [[nodiscard]] const std::string& comment() const;

 private:
  std::unique_ptr<PinholeKeeperImpl> impl_;
};

// One existing table of some family and the number of rules it holds.
struct TableRules {
  uint16_t family = 0;  // NFPROTO_*
  size_t rules = 0;
};
// Every family's table named `name` (inet, ip, ip6) that exists, with its rule count: the shape
// of ftpalgd's queueing tables (kernel::QueueRules::kTable), noted after install and compared
// later.
Status listTables(const std::string& name, std::vector<TableRules>& out);

}  // namespace ftpalg::kernel
