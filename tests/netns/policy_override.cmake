# Per-network policy overrides through ftpalgd (label netns, root; included by
# tests/netns/CMakeLists.txt): a PORT naming another server (FXP: the server sends the file to a
# second server) is refused as a bounce by default and admitted when a [[policy.override]]
# names both servers' network; the second server receives the file intact. See
# policy_override_test.sh.
foreach(case bounce override)
  add_test(NAME netns_policy_override.${case}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/policy_override_test.sh $<TARGET_FILE:ftpalgd> ${case})
  set_tests_properties(netns_policy_override.${case} PROPERTIES LABELS netns TIMEOUT 120
                       SKIP_RETURN_CODE 77)
endforeach()
