# ftpalgd restarts and failures in pinhole mode (label netns, root): sessions rewritten +4 and
# -4 bytes across kill -9, SIGTERM and restart, and the daemon absent with fail-open and
# fail-closed queue rules. Included by tests/netns/CMakeLists.txt.
add_test(NAME netns_restart
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/restart_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_restart PROPERTIES LABELS netns TIMEOUT 300 SKIP_RETURN_CODE 77)
