# A stale announcement does not divert an admin's published port forward (label netns, root):
# the NAT of a data connection is single use. Included by tests/netns/CMakeLists.txt.
add_test(NAME netns_published_port
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/published_port_test.sh $<TARGET_FILE:adapter_probe>)
set_tests_properties(netns_published_port PROPERTIES LABELS netns TIMEOUT 120
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
