# ftpalgd started by hand as root with `user`: after setup it runs as that user with only
# CAP_NET_ADMIN, no_new_privs and seccomp, while a PASV and a PORT transfer pass; the events file
# is 0640 (label netns, root). Included by tests/netns/CMakeLists.txt.
add_test(NAME netns_privileges
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/privileges_test.sh $<TARGET_FILE:ftpalgd>)
set_tests_properties(netns_privileges PROPERTIES LABELS netns TIMEOUT 180 SKIP_RETURN_CODE 77
                     RESOURCE_LOCK ftpalg_test_user)
