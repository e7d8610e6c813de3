# `ftpalg check` diagnoses each broken gateway and passes a healthy one (label netns, root):
# tests/netns/check_test.sh. Included by tests/netns/CMakeLists.txt.
add_test(NAME netns_ftpalg_check COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_test.sh
                                         $<TARGET_FILE:ftpalg> $<TARGET_FILE:ftpalgd>)
set_tests_properties(netns_ftpalg_check PROPERTIES LABELS netns TIMEOUT 180 SKIP_RETURN_CODE 77)
