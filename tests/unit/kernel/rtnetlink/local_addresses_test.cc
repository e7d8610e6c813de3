// LocalAddresses: RTM_NEWADDR messages become the gateway's addresses (loopback, link-local and
// multicast skipped, at most kMaxLocalAddresses), and a dump of this namespace answers.
#include "ftpalg/kernel/local_addresses.h"

#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

// One RTM_NEWADDR message for `a` (IFA_LOCAL for IPv4, IFA_ADDRESS for IPv6).
std::vector<char> newAddr(const core::IpAddr& a) {
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWADDR;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  const bool v4 = a.family == core::Family::V4;
  ifa->ifa_family = v4 ? AF_INET : AF_INET6;
  mnl_attr_put(nlh, v4 ? IFA_LOCAL : IFA_ADDRESS, a.size(), a.bytes.data());
  return buf;
}

bool add(const char* text, kernel::LocalAddressList& l) {
  const std::vector<char> m = newAddr(ipFromText(text));
  return kernel::addAddressMessage(reinterpret_cast<const nlmsghdr*>(m.data()), l);
}

TEST(LocalAddresses, KeepsUsableAddressesOnce) {
  kernel::LocalAddressList l;
  EXPECT_TRUE(add("198.18.1.1", l));
  EXPECT_TRUE(add("2001:db8:1::1", l));
  EXPECT_TRUE(add("198.18.1.1", l));  // a second interface with the same address
  EXPECT_FALSE(add("127.0.0.1", l));
  EXPECT_FALSE(add("::1", l));
  EXPECT_FALSE(add("fe80::1", l));
  EXPECT_FALSE(add("169.254.0.1", l));
  ASSERT_EQ(l.count, 2u);
  EXPECT_EQ(l.addrs[0], ipFromText("198.18.1.1"));
  EXPECT_EQ(l.addrs[1], ipFromText("2001:db8:1::1"));
}

TEST(LocalAddresses, CountsWhatDoesNotFit) {
  kernel::LocalAddressList l;
  for (int i = 1; i <= 10; ++i) {
    const std::vector<char> m = newAddr(core::IpAddr::v4(198, 18, 9, static_cast<uint8_t>(i)));
    (void)kernel::addAddressMessage(reinterpret_cast<const nlmsghdr*>(m.data()), l);
  }
  EXPECT_EQ(l.count, kernel::kMaxLocalAddresses);
  EXPECT_EQ(l.skipped, 2u);
}

TEST(LocalAddresses, DumpsThisNamespace) {
  kernel::LocalAddresses local;
  ASSERT_TRUE(local.open().ok());
  for (size_t i = 0; i < local.list().count; ++i) {
    EXPECT_NE(local.list().addrs[i], ipFromText("127.0.0.1"));
  }
  EXPECT_FALSE(local.refresh());  // nothing changed since open()
}

}  // namespace
}  // namespace ftpalg::test
