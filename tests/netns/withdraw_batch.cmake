# Withdrawals off the packet path, batched, through ftpalgd (label netns, root; included by
# tests/netns/CMakeLists.txt): used and unused announcements of ended sessions leave no element,
# none fails, and the stop drains what is pending; with NFT_MSG_DESTROYSETELEM and with
# NFT_MSG_DELSETELEM (the form of kernels before 6.3). See withdraw_batch_test.sh.
foreach(case destroy delete)
  add_test(NAME netns_withdraw_batch.${case}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/withdraw_batch_test.sh $<TARGET_FILE:ftpalgd> ${case})
  set_tests_properties(netns_withdraw_batch.${case} PROPERTIES LABELS netns TIMEOUT 200
                       SKIP_RETURN_CODE 77)
endforeach()
