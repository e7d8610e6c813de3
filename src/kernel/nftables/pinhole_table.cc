// PinholeTable: install/remove/admit/withdraw as nf_tables transactions over one netlink socket.
#include <array>
#include <cerrno>
#include <span>
#include <utility>
#include <vector>

#include "ftpalg/kernel/pinhole.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_socket.h"
#include "kernel/nftables/pinhole_messages.h"
#include "kernel/nftables/rules_text.h"
#include "kernel/nftables/withdraw_batcher.h"

namespace ftpalg::kernel {

class PinholeTableImpl {
 public:
  explicit PinholeTableImpl(PinholeConfig cfg) : cfg_(std::move(cfg)), withdrawals_(cfg_, sock_) {}

  Status install() {
    if (Status s = sock_.open(); !s.ok()) {
      return s;
    }
    std::vector<char> buf(64 * 1024);
    nft::NftBatch batch(buf, sock_.reserveSeq(nft::NftBatch::kMaxMessages));
    if (!nft::appendInstall(batch, cfg_) || !batch.finish()) {
      return Status::error(EMSGSIZE, "nft: install: batch too large");
    }
    return sock_.commit(batch);
  }

  Status remove() {
    if (Status s = sock_.open(); !s.ok()) {
      return s;
    }
    std::array<char, 4096> buf{};
    nft::NftBatch batch(buf, sock_.reserveSeq(1));
    if (!nft::appendRemove(batch, cfg_) || !batch.finish()) {
      return Status::error(EMSGSIZE, "nft: remove: batch too large");
    }
    return sock_.commit(batch, ENOENT);
  }

  // On the packet path: stack buffer, no allocation.
  Status admit(const core::Expectation& x) { return admit(x, cfg_); }
  // Off the hot path (copies the configuration).
  Status admit(const core::Expectation& x, uint32_t timeoutMs) {
    PinholeConfig c = cfg_;
    c.timeoutMs = timeoutMs;
    return admit(x, c);
  }

  Status admit(const core::Expectation& x, const PinholeConfig& cfg) {
    if (Status s = sock_.open(); !s.ok()) {
      return s;
    }
    std::array<char, 4096> buf{};
    nft::NftBatch batch(buf, sock_.reserveSeq(4));
    if (Status s = nft::appendAdmit(batch, cfg, x); !s.ok()) {
      return s;
    }
    if (!batch.finish()) {
      return Status::error(EMSGSIZE, "nft: admit: batch too large");
    }
    return sock_.commit(batch);
  }

  // Off the hot path, but also allocation-free (withdraw_batcher.h).
  Status withdraw(const core::Expectation& x) {
    Status s;
    withdrawMany(std::span<const core::Expectation>(&x, 1), std::span<Status>(&s, 1));
    return s;
  }

  void withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out) {
    if (Status s = sock_.open(); !s.ok()) {
      for (size_t i = 0; i < xs.size(); ++i) out[i] = s;
      return;
    }
    withdrawals_.withdraw(xs, out);
  }

  [[nodiscard]] DeleteForm deleteForm() const { return withdrawals_.form(); }

  [[nodiscard]] std::string describe() const { return pinholeTableText(cfg_); }

 private:
  PinholeConfig cfg_;
  nft::NftSocket sock_;
  nft::WithdrawBatcher withdrawals_;
};

PinholeTable::PinholeTable(PinholeConfig cfg)
    : impl_(std::make_unique<PinholeTableImpl>(std::move(cfg))) {}
PinholeTable::~PinholeTable() = default;

Status PinholeTable::install() { return impl_->install(); }
Status PinholeTable::remove() { return impl_->remove(); }
Status PinholeTable::admit(const core::Expectation& x) { return impl_->admit(x); }
Status PinholeTable::admit(const core::Expectation& x, uint32_t timeoutMs) {
  return impl_->admit(x, timeoutMs);
}
Status PinholeTable::withdraw(const core::Expectation& x) { return impl_->withdraw(x); }
void PinholeTable::withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out) {
  impl_->withdrawMany(xs, out);
}
DeleteForm PinholeTable::deleteForm() const { return impl_->deleteForm(); }
std::string PinholeTable::describe() const { return impl_->describe(); }

}  // namespace ftpalg::kernel
