// Owning pointers to libnftnl objects, freed on scope exit: one definition for every nf_tables
// message builder of the kernel layer.
#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <memory>

namespace ftpalg::kernel::nft {

// Calls the libnftnl free function of T.
template <typename T, void (*Free)(const T*)>
struct NftnlDeleter {
  void operator()(T* p) const { Free(p); }
};

using TablePtr = std::unique_ptr<nftnl_table, NftnlDeleter<nftnl_table, nftnl_table_free>>;
using SetPtr = std::unique_ptr<nftnl_set, NftnlDeleter<nftnl_set, nftnl_set_free>>;
using ChainPtr = std::unique_ptr<nftnl_chain, NftnlDeleter<nftnl_chain, nftnl_chain_free>>;
using RulePtr = std::unique_ptr<nftnl_rule, NftnlDeleter<nftnl_rule, nftnl_rule_free>>;
using ObjPtr = std::unique_ptr<nftnl_obj, NftnlDeleter<nftnl_obj, nftnl_obj_free>>;

}  // namespace ftpalg::kernel::nft
