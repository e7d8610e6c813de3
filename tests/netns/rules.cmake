# `ftpalg rules` against the running kernel, each in a fresh network namespace (label netns,
# root). Included by tests/netns/CMakeLists.txt.
# probe: the header names the form nft itself can (or cannot) add, and nothing is left behind.
add_test(NAME ftpalg_rules_probe COMMAND unshare -n sh -c [=[
  out=$("$1" rules --queue-form auto) || exit 1
  [ -z "$(nft list ruleset)" ] || { echo "probe left a table behind"; exit 1; }
  if echo 'table inet t { chain c { queue num 0; }; }' | nft -f - 2>/dev/null; then
    want='^# nft queue form: '; else want='^# iptables NFQUEUE form: this kernel has no nft'; fi
  echo "$out" | head -n 1 | grep -q "$want" || { echo "$out"; exit 1; }
  echo "$out" | head -n 1]=] sh $<TARGET_FILE:ftpalg>)
# unprivileged: no CAP_NET_ADMIN, so the iptables form with a comment saying so.
add_test(NAME ftpalg_rules_unprivileged COMMAND unshare -n setpriv --reuid=65534 --regid=65534
         --clear-groups $<TARGET_FILE:ftpalg> rules --queue-form auto)
set_tests_properties(ftpalg_rules_unprivileged PROPERTIES PASS_REGULAR_EXPRESSION
                     "^# iptables NFQUEUE form: without CAP_NET_ADMIN[^\n]*\n\n#[^\n]*\niptables ")
# apply: the iptables lines run, the pinhole table and the commented forward chain check with
# `nft -c` (nft form: see ftpalg_rules_probe; nft -c needs the kernel to know `queue`).
add_test(NAME ftpalg_rules_apply COMMAND unshare -n sh -c [=[
  out=$("$1" rules --queue-form iptables --queues 0-1 --ports 2121 --fail-open --mark 0x42) || exit 1
  echo "$out" | grep -E '^ip6?tables ' | sh -e || exit 1
  [ "$(iptables-save -t mangle | grep -c -- '--queue-balance 0:1 --queue-bypass')" = 2 ] || exit 1
  echo "$out" | sed -n '/^table inet ftpalg_q0 {/,/^}/p' | nft -c -f - || exit 1
  echo "$out" | sed -n 's/^#	//p' | sed -n '/^table inet filter {/,/^}/p' | nft -c -f - || exit 1
  echo "$out" | sed -n 's/^#	//p' | grep -q 'ct mark 0x00000042 accept']=] sh $<TARGET_FILE:ftpalg>)
set_tests_properties(ftpalg_rules_probe ftpalg_rules_unprivileged ftpalg_rules_apply
                     PROPERTIES LABELS netns)
