# Pinhole mode's state in conntrack labels (conntrack_state = "labels", label netns, root): on
# one gateway, sessions rewritten +4 and -4 bytes and a PASV announced but not yet connected
# survive ftpalgd's kill -9 with no state_dir and the pinhole table deleted, so only conntrack
# holds their state. Included by tests/netns/CMakeLists.txt.
add_test(NAME netns_ha_labels
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/ha_labels_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_ha_labels PROPERTIES LABELS "netns;ha" TIMEOUT 240
                     SKIP_RETURN_CODE 77)
