# Withdrawn and reassigned announcements through ftpalgd (label netns, root; included by
# tests/netns/CMakeLists.txt): a refused or stale PORT leaves no element and diverts no
# connection to a published port; two clients behind one SNAT address announcing the same port
# do not stall; the gateway's own addresses are special addresses even with --allow-bounce;
# pipelined PORT+RETR gets no late data SYN. See withdraw_test.sh.
foreach(case withdraw clash gateway pipeline)
  add_test(NAME netns_withdraw.${case}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/withdraw_test.sh $<TARGET_FILE:ftpalgd> ${case})
  set_tests_properties(netns_withdraw.${case} PROPERTIES LABELS netns TIMEOUT 200
                       SKIP_RETURN_CODE 77)
endforeach()
