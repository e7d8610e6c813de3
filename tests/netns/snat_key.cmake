# Pinhole mode's source NAT map keyed by the dialled destination (label netns, root; included by
# tests/netns/CMakeLists.txt): a NATed and a routed session of one client with the same server
# passive port and client data port; the routed one's data connections keep their source. See
# snat_key_test.sh. About 3 s.
add_test(NAME netns_snat_key COMMAND ${CMAKE_CURRENT_LIST_DIR}/snat_key_test.sh
                                     $<TARGET_FILE:ftpalgd>)
set_tests_properties(netns_snat_key PROPERTIES LABELS netns TIMEOUT 120 SKIP_RETURN_CODE 77)
