// Outstanding admitted announcements, engine wide: what the kernel may still hold elements of
// (pin, NAT map element, expectation) until their timeout. Each is found by its data key (data
// source address, destination as announced to the far side, port: the NAT map's key), so two
// announcements of different mappings never share one (behind one SNAT address, a clash with
// another session moves the second to another public port, as nf_nat_ftp does; the same
// session announcing the same mapping again supersedes its entry, as the kernel replaces an
// expectation of the same master), and by its session, so that a refused command or an ended
// session withdraws what it opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ftpalg/core/engine.h"
#include "session.h"

namespace ftpalg::core {

// One outstanding announcement.
struct DataKey {
  Expectation x;
  uint64_t untilNs = 0;          // reserved until then (the kernel's elements live as long)
  uint32_t chain = kNone;        // next entry in the same hash bucket
  uint32_t sessionNext = kNone;  // next entry of the same session
  Session* owner = nullptr;      // the session that announced it
  Dir dir = Dir::C2S;            // who announced it
  bool awaitingReply = false;    // PORT/EPRT/LPRT whose reply has not come yet
  bool used = false;
  bool confirmed = false;  // the server accepted it, or an identical one it superseded
};

// Fixed-capacity table (reserved once, an entry constructed when first needed, freed ones
// reused first: the memory touched follows the most announcements outstanding at once); each
// session links its entries from Session::dataKeys, newest first.
class DataKeys {
 public:
  explicit DataKeys(size_t capacity);

  // A live entry at nowNs with the data key of `src` -> `dst`, or nullptr.
  [[nodiscard]] const DataKey* find(const IpAddr& src, const Endpoint& dst, uint64_t nowNs) const;
  // The live entry of `s` with that data key, or nullptr.
  DataKey* findOwn(const Session& s, const IpAddr& src, const Endpoint& dst, uint64_t nowNs);
  // Records `x` for session `s`; false when the table is full.
  bool add(Session& s, const Expectation& x, Dir d, bool awaitingReply, uint64_t untilNs,
           bool confirmed = false);
  [[nodiscard]] bool full() const { return freeHead_ == kNone && constructed_ == capacity_; }
  // The oldest entry of `s` still awaiting its reply, or nullptr.
  DataKey* oldestAwaiting(Session& s);
  // Frees `e` (an entry of `s`).
  void erase(Session& s, DataKey& e);
  // Frees the entries of `s` that expired before nowNs.
  void prune(Session& s, uint64_t nowNs);
  // Frees every expired entry of every session (when the table is full: long-lived sessions
  // keep theirs until they announce again or end); returns how many.
  size_t sweep(uint64_t nowNs);
  // Another live entry than `e` with `e`'s data key, pin and target (withdrawing `e` must not
  // remove what that one still needs).
  [[nodiscard]] bool shared(const DataKey& e, uint64_t nowNs) const;
  // Calls f(DataKey&) for each entry of `s`, newest first (f must not erase).
  template <typename F>
  void forSession(Session& s, F&& f) {
    for (uint32_t i = s.dataKeys; i != kNone; i = at(i).sessionNext) f(at(i));
  }

  [[nodiscard]] size_t size() const { return live_; }

 private:
  [[nodiscard]] size_t bucket(const IpAddr& src, const Endpoint& dst) const;
  DataKey& at(uint32_t i) { return reinterpret_cast<DataKey*>(entries_.get())[i]; }
  [[nodiscard]] const DataKey& at(uint32_t i) const {
    return reinterpret_cast<const DataKey*>(entries_.get())[i];
  }
  uint32_t indexOf(const DataKey& e) const {
    return static_cast<uint32_t>(&e - reinterpret_cast<const DataKey*>(entries_.get()));
  }

  // Raw bytes for capacity_ entries (default-initialised: no page written before use); entries
  // [0, constructed_) are DataKey objects.
  std::unique_ptr<std::byte[]> entries_;
  size_t capacity_;
  uint32_t constructed_ = 0;
  std::vector<uint32_t> buckets_;  // power of two, at least the entries; kNone = empty
  uint32_t freeHead_ = kNone;      // free entries linked through `chain`
  size_t live_ = 0;
};

}  // namespace ftpalg::core
