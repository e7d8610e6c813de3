#include "data_keys.h"

#include <new>
#include <type_traits>

#include "session_table.h"

namespace ftpalg::core {

// Entries are never destroyed one by one (a freed entry is reused as it is).
static_assert(std::is_trivially_destructible_v<DataKey>);
static_assert(alignof(DataKey) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

DataKeys::DataKeys(size_t capacity)
    : entries_(new std::byte[(capacity == 0 ? 1 : capacity) * sizeof(DataKey)]),
      capacity_(capacity == 0 ? 1 : capacity) {
  size_t n = 1;
  while (n < capacity_) n <<= 1;
  buckets_.assign(n, kNone);
}

size_t DataKeys::bucket(const IpAddr& src, const Endpoint& dst) const {
  return hashFlow(src, 0, dst.addr, dst.port) & (buckets_.size() - 1);
}

const DataKey* DataKeys::find(const IpAddr& src, const Endpoint& dst, uint64_t nowNs) const {
  for (uint32_t i = buckets_[bucket(src, dst)]; i != kNone; i = at(i).chain) {
    const DataKey& e = at(i);
    if (e.untilNs > nowNs && e.x.src.addr == src && e.x.dst == dst) return &e;
  }
  return nullptr;
}

DataKey* DataKeys::findOwn(const Session& s, const IpAddr& src, const Endpoint& dst,
                           uint64_t nowNs) {
  for (uint32_t i = buckets_[bucket(src, dst)]; i != kNone; i = at(i).chain) {
    DataKey& e = at(i);
    if (e.owner == &s && e.untilNs > nowNs && e.x.src.addr == src && e.x.dst == dst) return &e;
  }
  return nullptr;
}

bool DataKeys::add(Session& s, const Expectation& x, Dir d, bool awaitingReply, uint64_t untilNs,
                   bool confirmed) {
  if (freeHead_ == kNone) {
    if (constructed_ == capacity_) return false;
    new (&at(constructed_)) DataKey{};
    at(constructed_).chain = kNone;
    freeHead_ = constructed_++;
  }
  const uint32_t i = freeHead_;
  DataKey& e = at(i);
  freeHead_ = e.chain;
  const size_t b = bucket(x.src.addr, x.dst);
  e = DataKey{x, untilNs, buckets_[b], s.dataKeys, &s, d, awaitingReply, true, confirmed};
  buckets_[b] = i;
  s.dataKeys = i;
  ++live_;
  return true;
}

DataKey* DataKeys::oldestAwaiting(Session& s) {
  DataKey* found = nullptr;
  forSession(s, [&](DataKey& e) {
    if (e.awaitingReply) found = &e;
  });
  return found;
}

void DataKeys::erase(Session& s, DataKey& e) {
  const uint32_t i = indexOf(e);
  for (uint32_t* p = &buckets_[bucket(e.x.src.addr, e.x.dst)]; *p != kNone; p = &at(*p).chain) {
    if (*p == i) {
      *p = e.chain;
      break;
    }
  }
  for (uint32_t* p = &s.dataKeys; *p != kNone; p = &at(*p).sessionNext) {
    if (*p == i) {
      *p = e.sessionNext;
      break;
    }
  }
  e = DataKey{};
  e.chain = freeHead_;
  freeHead_ = i;
  --live_;
}

void DataKeys::prune(Session& s, uint64_t nowNs) {
  uint32_t i = s.dataKeys;
  while (i != kNone) {
    DataKey& e = at(i);
    i = e.sessionNext;
    if (e.untilNs <= nowNs) erase(s, e);
  }
}

size_t DataKeys::sweep(uint64_t nowNs) {
  size_t n = 0;
  for (uint32_t i = 0; i < constructed_; ++i) {
    DataKey& e = at(i);
    if (e.used && e.untilNs <= nowNs) {
      erase(*e.owner, e);
      ++n;
    }
  }
  return n;
}

bool DataKeys::shared(const DataKey& e, uint64_t nowNs) const {
  for (uint32_t i = buckets_[bucket(e.x.src.addr, e.x.dst)]; i != kNone; i = at(i).chain) {
    const DataKey& o = at(i);
    if (&o != &e && o.untilNs > nowNs && o.x.src.addr == e.x.src.addr && o.x.dst == e.x.dst &&
        o.x.natTo == e.x.natTo) {
      return true;
    }
  }
  return false;
}

}  // namespace ftpalg::core
