# ftpalgd's kernel objects across deletions, two instances and restarts (label netns, root;
# included by tests/netns/CMakeLists.txt): see tests/netns/selfheal_test.sh. Each case builds
# its own namespaces; they share the gateway's queue numbers 0 and 1 only inside them.
foreach(case IN ITEMS heal two restart)
  add_test(NAME ftpalgd_kernel_objects.${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/selfheal_test.sh ${case}
                   $<TARGET_FILE:ftpalgd>)
  set_tests_properties(ftpalgd_kernel_objects.${case} PROPERTIES LABELS netns TIMEOUT 240
                       FIXTURES_REQUIRED ftpalg_e2e)
endforeach()
