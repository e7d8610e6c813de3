// Conntrack labels (ctnetlink CTA_LABELS, the 128-bit connlabel extension) of control
// connections: written under a mask so only the bits a caller owns change, read back with one
// GET, and dumped for every entry that carries any of them. The kernel gives an entry the labels
// extension only while some rule references ct labels (nf_connlabels_get), and only to entries
// created from then on: PinholeConfig::ctLabels puts such a rule into ftpalg's pinhole table.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "ftpalg/kernel/expectation.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

// The 128 label bits of one entry; bit i is word i / 64, bit i % 64 (the numbering of
// `conntrack -L -o labels`, `ct label` and connlabel.conf).
struct CtLabelBits {
  static constexpr unsigned kBits = 128;
  std::array<uint64_t, 2> words{};
  [[nodiscard]] bool test(unsigned bit) const {
    return ((words[bit / 64] >> (bit % 64)) & 1U) != 0;
  }
  void set(unsigned bit) { words[bit / 64] |= uint64_t{1} << (bit % 64); }
  [[nodiscard]] bool any() const { return words[0] != 0 || words[1] != 0; }
  friend bool operator==(const CtLabelBits&, const CtLabelBits&) = default;
};

// One dumped entry that carries labels under the caller's mask.
struct LabeledEntry {
  CtTuple orig;
  CtTuple reply;
  CtLabelBits labels;
  uint32_t timeoutS = 0;  // the entry's remaining timeout
};

class CtLabelsImpl;

// One ctnetlink socket of its own. Not thread-safe.
class CtLabels {
 public:
  CtLabels();
  ~CtLabels();
  CtLabels(const CtLabels&) = delete;
  CtLabels& operator=(const CtLabels&) = delete;

  Status open();
  // Sets the bits of `mask` in the entry whose original tuple is `orig` to those of `value`
  // (CTA_LABELS + CTA_LABELS_MASK, one UPDATE); the other bits stay. ENOENT: no entry; ENOSPC:
  // the entry has no labels extension (created while no rule referenced ct labels).
  Status write(const CtTuple& orig, const CtLabelBits& value, const CtLabelBits& mask);
  // The labels of the entry whose original tuple is `orig` (all zero without the extension).
  Status read(const CtTuple& orig, CtLabelBits& out);
  // Every TCP entry (IPv4 and IPv6) with a label bit of `mask` set, to `visit`. O(table).
  Status dump(const CtLabelBits& mask, const std::function<void(const LabeledEntry&)>& visit);

 private:
  std::unique_ptr<CtLabelsImpl> impl_;
};

}  // namespace ftpalg::kernel
