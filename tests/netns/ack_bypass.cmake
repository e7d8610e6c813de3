# The queue rules' ACK bypass (label netns, root): a NATed session with length-changing
# rewrites works with it, a plain session queues fewer packets than with --queue-everything
# and none of the pure ACKs that crossed the gateway (with --queue-everything all of them), and
# no rewritten line leaves before its connection is marked. Included by
# tests/netns/CMakeLists.txt. Queue 61.
add_test(NAME netns_ack_bypass
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ack_bypass_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_ack_bypass PROPERTIES LABELS netns TIMEOUT 180 SKIP_RETURN_CODE 77)
