# End-to-end matrix in network namespaces (label netns; needs root, installs its packages):
# client - gateway - server (+ a third host), the gateway's FTP ALG being the in-kernel helper
# (always) or ftpalgd (once the target exists). One test per matrix block and mode; see
# tests/netns/e2e/run-block.sh. Results (JSON lines) go to ${FTPALG_E2E_RESULTS}/<mode>.jsonl;
# the last test writes ${FTPALG_E2E_RESULTS}/interop.md with scripts/interop-table.py, adding
# the qemu lane's expectation-mode results (tests/qemu/results/<kernel>.jsonl, one column each);
# regenerate docs/interop.md with the same script and inputs after a full run.
set(FTPALG_E2E_DIR ${CMAKE_CURRENT_SOURCE_DIR}/e2e)
set(FTPALG_E2E_RESULTS ${CMAKE_BINARY_DIR}/netns-e2e)
set(FTPALG_E2E_BLOCKS nonat4 nonat6 masq4 masq6 dnat4 dnat6 both4 negative)

add_test(NAME netns_e2e_setup
         COMMAND bash ${FTPALG_E2E_DIR}/setup.sh ${FTPALG_E2E_RESULTS})
set_tests_properties(netns_e2e_setup PROPERTIES LABELS netns TIMEOUT 1200
                     FIXTURES_SETUP ftpalg_e2e RESOURCE_LOCK ftpalg_netns_e2e)

set(FTPALG_E2E_MODES kernel-helper ftpalgd)
foreach(mode IN LISTS FTPALG_E2E_MODES)
  set(daemon_args)
  if(mode STREQUAL "ftpalgd")
    set(daemon_args --ftpalgd $<TARGET_FILE:ftpalgd>)
  endif()
  foreach(block IN LISTS FTPALG_E2E_BLOCKS)
    add_test(NAME netns_e2e.${mode}.${block}
             COMMAND bash ${FTPALG_E2E_DIR}/run-block.sh --mode ${mode} --block ${block}
                     --results ${FTPALG_E2E_RESULTS}/${mode}.jsonl
                     --ftpalg $<TARGET_FILE:ftpalg> ${daemon_args})
    set_tests_properties(netns_e2e.${mode}.${block} PROPERTIES LABELS netns TIMEOUT 240
                         FIXTURES_REQUIRED ftpalg_e2e RESOURCE_LOCK ftpalg_netns_e2e)
  endforeach()
endforeach()

add_test(NAME netns_e2e_interop_table
         COMMAND python3 ${PROJECT_SOURCE_DIR}/scripts/interop-table.py
                 --out ${FTPALG_E2E_RESULTS}/interop.md ${FTPALG_E2E_RESULTS}
                 ${PROJECT_SOURCE_DIR}/tests/qemu/results)
set_tests_properties(netns_e2e_interop_table PROPERTIES LABELS netns TIMEOUT 60
                     FIXTURES_CLEANUP ftpalg_e2e)
