// Expectation mode (kernels with nfnetlink_cthelper): ftpalgd registers itself as a userspace
// conntrack helper. The ruleset attaches the helper to control connections (`ct helper set`
// with an nft `ct helper` object naming it, or the iptables CT target); the kernel then queues
// every packet of exactly those connections to the helper's NFQUEUE number, after NAT, at the
// conntrack confirm hook. With no program bound to the queue the packets pass (the kernel
// queues with the bypass flag), and a registered but disabled helper passes them unqueued.
//
// Kernel facts this adapter relies on (nfnetlink_cthelper.c, 6.1):
//  - helpers are global, not per network namespace; one registration per (name, l3 family),
//    so "inet" means two: AF_INET and AF_INET6 under the same name;
//  - registering again with the same name and family updates queue, policy and status;
//  - an nft `ct helper` object holds a reference: deleting the helper while the ruleset still
//    names it fails with EBUSY. Remove the ruleset first, then the helper.
// The expectation lifetime comes from the policy registered here: ctnetlink ignores the
// timeout of an expectation created for a master that has a helper.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ftpalg/defaults.h"
#include "ftpalg/status.h"

struct mnl_socket;

namespace ftpalg::kernel {

// What the helper is registered with.
struct CtHelperConfig {
  std::string name{
      defaults::kHelperName};  // at most 15 bytes; the ruleset's ct helper object names it
  uint16_t queueNum = 0;       // NFQUEUE the helped connections' packets go to
  uint32_t maxExpected = 8;    // outstanding expectations per control connection, 1..255
  uint32_t expectTimeoutS = defaults::kPinholeTimeoutS;  // lifetime of an expectation, seconds
};

// One userspace helper as the kernel reports it.
struct CtHelperInfo {
  std::string name;
  uint16_t l3Family = 0;  // AF_INET / AF_INET6
  uint8_t l4Proto = 0;    // IPPROTO_TCP
  uint32_t queueNum = 0;
  bool enabled = false;
  uint32_t maxExpected = 0;  // policy of class 0
  uint32_t expectTimeoutS = 0;
};

// The registration of one helper name for IPv4 and IPv6, over one nfnetlink socket.
// Not thread-safe. The destructor does not unregister: the owner calls remove() on exit, and a
// stale registration left by a crash is taken over by the next install().
class CtHelper {
 public:
  explicit CtHelper(CtHelperConfig cfg);
  ~CtHelper();
  CtHelper(const CtHelper&) = delete;
  CtHelper& operator=(const CtHelper&) = delete;

  // Whether nfnetlink_cthelper answers (a dump of the userspace helpers succeeds; the kernel
  // may load the module on demand). EOPNOTSUPP when the kernel lacks it (nfnetlink answers
  // EINVAL or EOPNOTSUPP for an unknown subsystem), EPERM without CAP_NET_ADMIN.
  static Status probe();
  static bool available() { return probe().ok(); }

  // Registers (or updates) the helper for AF_INET and AF_INET6, TCP, with the configured queue
  // and expectation policy, disabled: connections assigned to it pass unqueued until enable.
  Status install();
  // Switches queueing on or off for both families (NFCTH_STATUS).
  Status setEnabled(bool enabled);
  // Unregisters both families. A family that is not registered is not an error; EBUSY means a
  // ruleset still references the helper.
  Status remove();
  // Every userspace helper the kernel knows (any name).
  Status list(std::vector<CtHelperInfo>& out);

  [[nodiscard]] const CtHelperConfig& config() const { return cfg_; }

 private:
  Status open();
  Status registerFamily(uint16_t family, bool withPolicy, bool enabled);

  CtHelperConfig cfg_;
  mnl_socket* nl_ = nullptr;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace ftpalg::kernel
