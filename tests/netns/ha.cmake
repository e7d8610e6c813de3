# High availability in pinhole mode (label ha, root; included by tests/netns/CMakeLists.txt): two
# gateways with keepalived (VRRP) and conntrackd (FTFW) and ftpalgd on both; FTP sessions across
# a failover and a failback, keepalived stopped and cables pulled. See ha/ha_test.sh and
# docs/ha.md. Its own namespaces (ftha-<pid>-*), paths and queue: no shared resource.
add_test(NAME netns_ha COMMAND ${CMAKE_CURRENT_LIST_DIR}/ha/ha_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_ha PROPERTIES LABELS ha TIMEOUT 240 SKIP_RETURN_CODE 77)
