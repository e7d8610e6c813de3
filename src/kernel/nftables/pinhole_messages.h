// The nf_tables messages of pinhole mode (see ftpalg/kernel/pinhole.h for the table they
// build). Pure message building: no socket, testable without a kernel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"
#include "kernel/nftables/nft_batch.h"

namespace ftpalg::kernel::nft {

// Set and map names per family.
inline constexpr const char* kPinSet4 = "pin4";
inline constexpr const char* kPinSet6 = "pin6";
inline constexpr const char* kNatMap4 = "nat4";
inline constexpr const char* kNatMap6 = "nat6";
inline constexpr const char* kSnatMap4 = "snat4";
inline constexpr const char* kSnatMap6 = "snat6";
// Single use of NAT map elements: the nat map's key while its element is unused.
inline constexpr const char* kNatUseSet4 = "natuse4";
inline constexpr const char* kNatUseSet6 = "natuse6";
inline constexpr const char* kPreChain = "pre";
inline constexpr const char* kPinChain = "pin";
inline constexpr const char* kPostChain = "post";
inline constexpr uint32_t kSetSize = 65535;  // elements per set or map

// nftables datatype ids (nftables' datatypes.h) and their concatenation
// (type << 6 | next), as nft stores them so that `nft list` prints the key types.
inline constexpr uint32_t kTypeIpv4 = 7;
inline constexpr uint32_t kTypeIpv6 = 8;
inline constexpr uint32_t kTypeInetService = 13;
constexpr uint32_t concatType(uint32_t a, uint32_t b) { return (a << 6) | b; }

// A concatenated set key or map value: each field padded to 4 bytes, network byte order.
struct PackedKey {
  std::array<uint8_t, 36> bytes{};
  uint32_t len = 0;
  [[nodiscard]] std::span<const uint8_t> view() const { return {bytes.data(), len}; }
};
// addr . addr . port (12 bytes for IPv4, 36 for IPv6).
PackedKey packAddrAddrPort(const core::IpAddr& a, const core::IpAddr& b, uint16_t port);
// addr . port (8 bytes for IPv4, 20 for IPv6).
PackedKey packAddrPort(const core::IpAddr& a, uint16_t port);
// addr (4 bytes for IPv4, 16 for IPv6): the source NAT map value.
PackedKey packAddr(const core::IpAddr& a);

// Replaces the table `cfg.table` (add, delete, add: atomic, no ENOENT) with its sets, maps,
// chains and rules. False when the batch overflowed.
bool appendInstall(NftBatch& batch, const PinholeConfig& cfg);
// Makes the table what appendInstall builds without deleting it, so the sets and maps keep
// their elements and timeouts (adoption by a successor, repair after `nft flush chain` or a
// deleted table): add table (with `comment` as its nft comment), add sets, maps and chains
// (existing ones with the same properties are kept), flush the three chains, add the rules;
// one transaction. An existing set or chain with other properties fails it with EEXIST.
bool appendEnsure(NftBatch& batch, const PinholeConfig& cfg, std::string_view comment);
// appendInstall with the table comment: replaces whatever table has the name.
bool appendReplace(NftBatch& batch, const PinholeConfig& cfg, std::string_view comment);
// Deletes the table.
bool appendRemove(NftBatch& batch, const PinholeConfig& cfg);
// The pin element, the NAT map element and its single-use mark (natuse, same key) when
// natTo != dst, and the source NAT map element (same key as the pin) when x.hasSrcNat. Invalid
// expectations (mixed families, zero ports) give EINVAL; allocation-free.
Status appendAdmit(NftBatch& batch, const PinholeConfig& cfg, const core::Expectation& x);

}  // namespace ftpalg::kernel::nft
