# Blind RSTs at a rewritten, liberally tracked control connection (label netns, root): the
# daemon puts the conntrack entry back to ESTABLISHED and the session goes on. Included by
# tests/netns/CMakeLists.txt.
add_test(NAME netns_spoofed_rst
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/spoofed_rst_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_spoofed_rst PROPERTIES LABELS netns TIMEOUT 180 SKIP_RETURN_CODE 77)
