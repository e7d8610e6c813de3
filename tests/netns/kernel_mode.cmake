# Host side of expectation mode (label netns, root; included by tests/netns/CMakeLists.txt): this kernel has no nfnetlink_cthelper, so
# `--kernel-mode auto` picks pinhole and says why in one line, and `--kernel-mode cthelper`
# refuses to start with a clear error (exit 1) before touching anything.
add_test(NAME ftpalgd_kernel_mode_auto COMMAND unshare -n sh -c [=[
  out=$(timeout -s INT 2 "$1" --kernel-mode auto --queues 7 2>&1)
  echo "$out"
  [ "$(echo "$out" | grep -c 'kernel mode')" = 1 ] || exit 1
  echo "$out" | grep -q '^ftpalgd: info: kernel mode pinhole (auto): nfnetlink_cthelper is not available' || exit 1
  ]=] sh $<TARGET_FILE:ftpalgd>)
add_test(NAME ftpalgd_kernel_mode_cthelper_unavailable COMMAND unshare -n sh -c [=[
  out=$("$1" --kernel-mode cthelper --queues 7 2>&1); rc=$?
  echo "$out"; echo "exit $rc"
  [ $rc = 1 ] || exit 1
  echo "$out" | grep -q '^ftpalgd: error: kernel mode cthelper mode needs nfnetlink_cthelper' || exit 1
  [ -z "$(nft list ruleset)" ] || { echo "left rules behind"; exit 1; }
  ]=] sh $<TARGET_FILE:ftpalgd>)
set_tests_properties(ftpalgd_kernel_mode_auto ftpalgd_kernel_mode_cthelper_unavailable
                     PROPERTIES LABELS netns)
