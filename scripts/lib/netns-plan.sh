# shellcheck shell=sh
# The one address plan of ftpalg's network-namespace scripts: the demo, the golden recorder,
# the netns end-to-end and kernel adapter tests (all through scripts/lib/netns.sh) and the qemu
# lane's scenarios (tests/qemu/lib.sh). Plain POSIX assignments, so bash and the qemu lane's
# busybox sh both source it. Only 198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8::/32
# (RFC 3849, documentation) are used, and no namespace routes beyond them.
#
# Links: client link 198.18.1.0/24 2001:db8:1::/64 (client - gw)
#        server link 198.19.1.0/24 2001:db8:2::/64 (gw - server)
#        third link  198.19.2.0/24 2001:db8:3::/64 (gw - third host)
# The "client side" of the plan is 198.18.0.0/16 and 2001:db8:1::/48, the "server side"
# 198.19.0.0/16 and 2001:db8:2::/48 + 2001:db8:3::/48.
# shellcheck disable=SC2034 # a table: each user reads the names it needs

# name                  IPv4                         IPv6                           what
NETNS_CLIENT4=198.18.1.2;  NETNS_CLIENT6=2001:db8:1::2   # the client
NETNS_GW_CLI4=198.18.1.1;  NETNS_GW_CLI6=2001:db8:1::1   # gateway on the client link
NETNS_PUBLIC4=198.18.1.10; NETNS_PUBLIC6=2001:db8:1::10  # gateway's public (DNAT) address
NETNS_GW_SRV4=198.19.1.1;  NETNS_GW_SRV6=2001:db8:2::1   # gateway on the server link
NETNS_SERVER4=198.19.1.2;  NETNS_SERVER6=2001:db8:2::2   # the server
NETNS_SNAT4=198.19.1.9;    NETNS_SNAT6=2001:db8:2::9     # a source NAT address on no interface
NETNS_GW_THR4=198.19.2.1;  NETNS_GW_THR6=2001:db8:3::1   # gateway on the third link
NETNS_THIRD4=198.19.2.3;   NETNS_THIRD6=2001:db8:3::3    # the third host (bounce target)

# Prefixes: the links' lengths, the two sides and the whole plan.
NETNS_LINK_LEN4=24;        NETNS_LINK_LEN6=64
NETNS_CLIENT_SIDE4=198.18.0.0/16;  NETNS_CLIENT_SIDE6=2001:db8:1::/48
NETNS_SERVER_SIDE4=198.19.0.0/16;  NETNS_SERVER_SIDE6=2001:db8:2::/48
NETNS_THIRD_SIDE4=198.19.2.0/24;   NETNS_THIRD_SIDE6=2001:db8:3::/48
NETNS_ALL4=198.18.0.0/15;          NETNS_ALL6=2001:db8::/32
# One link holding both plan halves (client and server on the same veth): on-link prefixes.
NETNS_FLAT_LEN4=15;        NETNS_FLAT_LEN6=46
