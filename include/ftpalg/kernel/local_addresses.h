// The gateway's own addresses: every address of the interfaces of the network namespace the
// daemon runs in, from an rtnetlink RTM_GETADDR dump, kept current by the RTNLGRP_IPV4_IFADDR /
// RTNLGRP_IPV6_IFADDR notifications (read without blocking, then dumped again). The engine gets
// them as EngineConfig::gatewayAddresses (refused as announced endpoints: special_address).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "ftpalg/core/types.h"
#include "ftpalg/status.h"

struct mnl_socket;
struct nlmsghdr;

namespace ftpalg::kernel {

// How many addresses the engine takes (EngineConfig::gatewayAddresses).
inline constexpr size_t kMaxLocalAddresses = 8;

// Loopback, link-local and multicast addresses are refused as special addresses anyway, and
// are skipped; of the rest the first kMaxLocalAddresses are kept.
struct LocalAddressList {
  std::array<core::IpAddr, kMaxLocalAddresses> addrs{};
  size_t count = 0;
  size_t skipped = 0;  // usable addresses beyond the capacity
};

// Adds the address of one RTM_NEWADDR message to `list` (parsing only, for tests). False when
// the message carries no usable address.
bool addAddressMessage(const nlmsghdr* nlh, LocalAddressList& list);

// Owns one NETLINK_ROUTE socket subscribed to address changes. Not thread-safe.
class LocalAddresses {
 public:
  LocalAddresses() = default;
  ~LocalAddresses();
  LocalAddresses(const LocalAddresses&) = delete;
  LocalAddresses& operator=(const LocalAddresses&) = delete;

  // Opens the socket, subscribes to the address groups and dumps the current addresses.
  Status open();
  // Reads pending notifications without blocking; after any, dumps again. True when the list
  // changed since the last call (or since open()).
  bool refresh();
  [[nodiscard]] const LocalAddressList& list() const { return list_; }

 private:
  Status dump();

  mnl_socket* nl_ = nullptr;  // notifications
  LocalAddressList list_;
  bool changed_ = false;
};

}  // namespace ftpalg::kernel
