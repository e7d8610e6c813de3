// Withdrawing a pinhole (pinhole_withdraw.cc): the nf_tables messages that delete what
// appendAdmit (pinhole_messages.h) added. Pure message building, no socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"
#include "kernel/nftables/nft_batch.h"

namespace ftpalg::kernel::nft {

// The elements an admit of `x` added, in the order a withdrawal deletes them: the single-use
// mark first (the NAT map element stops applying to new connections at once), then the NAT
// map element, the source NAT map element and the pin.
enum class AdmitElement : uint8_t { NatUse, Nat, Snat, Pin };
// Which of them an admit of `x` added (in deletion order); returns how many.
size_t admitElements(const core::Expectation& x, std::array<AdmitElement, 4>& out);
// Deletes one of them (NFT_MSG_DELSETELEM: ENOENT when it is gone already, e.g. used by its
// data connection or timed out). Invalid expectations give EINVAL; allocation-free.
Status appendWithdraw(NftBatch& batch, const PinholeConfig& cfg, const core::Expectation& x,
                      AdmitElement which);

}  // namespace ftpalg::kernel::nft
