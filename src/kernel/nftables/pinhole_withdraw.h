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
// Deletes one of them: NFT_MSG_DELSETELEM (ENOENT when it is gone already, e.g. used by its
// data connection or timed out), or with DeleteForm::Destroy NFT_MSG_DESTROYSETELEM (no error
// then; kernels 6.3 and later). Invalid expectations give EINVAL; allocation-free.
Status appendWithdraw(NftBatch& batch, const PinholeConfig& cfg, const core::Expectation& x,
                      AdmitElement which, DeleteForm form = DeleteForm::Delete);
// Whether appendWithdraw() takes `x` (one family throughout, nonzero ports).
bool withdrawable(const core::Expectation& x);
// The probe for NFT_MSG_DESTROYSETELEM: destroys an element that cannot exist (all-zero key,
// port 0) in the table's pin4 set. A kernel with the message answers 0; one without answers
// EINVAL (an unknown message type); a missing table gives ENOENT.
bool appendDestroyProbe(NftBatch& batch, const PinholeConfig& cfg);

}  // namespace ftpalg::kernel::nft
