# The main job, scripts/demo.sh (labels demo and netns, root; included by
# tests/netns/CMakeLists.txt): the gateway demo and the replay against the built ftpalgd and
# ftpalg (it neither installs nor builds here), checked for what the README says it shows, in
# at most 240 s, leaving no namespace, daemon or scratch directory. See demo_test.sh.
add_test(NAME netns_demo COMMAND ${CMAKE_CURRENT_LIST_DIR}/demo_test.sh $<TARGET_FILE:ftpalgd>
                                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_demo PROPERTIES LABELS "demo;netns" TIMEOUT 300 SKIP_RETURN_CODE 77)
