# `ftpalg status` against a live gateway: the session of a paused download with its offsets,
# announcement and events, and who may ask (label netns, root). Included by
# tests/netns/CMakeLists.txt.
add_test(NAME netns_status
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/status/status_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_status PROPERTIES LABELS netns TIMEOUT 120 SKIP_RETURN_CODE 77)
