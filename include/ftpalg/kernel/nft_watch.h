// Notifications of nf_tables changes (NFNLGRP_NFTABLES) that concern some tables: a netlink
// socket of its own, non-blocking, read by whoever polls its descriptor (ftpalgd's keeper
// thread, never the packet path). Notifications only trigger a look at the kernel; what counts
// is what the table holds afterwards (our own repairs notify too).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ftpalg/status.h"

struct mnl_socket;

namespace ftpalg::kernel {

// What the notifications read by one drain() said about the watched tables.
struct NftChanges {
  uint32_t deletions = 0;  // a watched table, or a chain, rule, set or map in one, deleted
  uint32_t elements = 0;   // set or map elements of a watched table deleted
  bool overrun = false;    // the socket overflowed (ENOBUFS): notifications were lost
  uint32_t portId = 0;     // netlink port of the last deleting program (0: the kernel)
  [[nodiscard]] bool any() const { return deletions > 0 || elements > 0 || overrun; }
};

class NftWatch {
 public:
  // `tables`: names of the tables to watch, in any family.
  explicit NftWatch(std::vector<std::string> tables) : tables_(std::move(tables)) {}
  ~NftWatch();
  NftWatch(const NftWatch&) = delete;
  NftWatch& operator=(const NftWatch&) = delete;

  // Opens the socket and joins the nf_tables group (needs CAP_NET_ADMIN; keeps working after
  // the other capabilities are dropped).
  Status open();
  [[nodiscard]] int fd() const;
  // Reads every queued notification without blocking and adds what they say to `out`.
  Status drain(NftChanges& out);

 private:
  std::vector<std::string> tables_;
  mnl_socket* nl_ = nullptr;
};

}  // namespace ftpalg::kernel
