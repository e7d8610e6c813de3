# A queue flood with a stopped daemon, fail-closed and fail-open (label netns, root): kernel
# drops counted and logged once, flood dropped or passed, a new PASV and PORT session works.
# Included by tests/netns/CMakeLists.txt.
foreach(mode closed open)
  add_test(NAME netns_overload_fail_${mode}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/overload_test.sh ${mode} $<TARGET_FILE:ftpalgd>)
  set_tests_properties(netns_overload_fail_${mode} PROPERTIES LABELS netns TIMEOUT 180
                       SKIP_RETURN_CODE 77)
endforeach()
