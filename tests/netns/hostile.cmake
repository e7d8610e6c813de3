# Hostile-load end-to-end test (label netns, root; included by tests/netns/CMakeLists.txt):
# legitimate NATed FTP sessions transfer files through ftpalgd while other hosts flood, hold,
# junk and spoof at once; see tests/netns/hostile/run.sh. About 50 s; its own namespaces and
# queue, but RUN_SERIAL: its floods would load a parallel test's timing.
add_test(NAME netns_hostile_load
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/hostile/run.sh $<TARGET_FILE:ftpalgd>)
set_tests_properties(netns_hostile_load PROPERTIES LABELS netns TIMEOUT 180
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Before/after figures of the hardening findings (docs/hardening.md): CTest runs the short smoke
# (label bench: the new daemon, events per junk byte and special addresses under --allow-bounce);
# the full table needs an old daemon: tests/bench/hostile/measure.sh --old OLD --new NEW.
add_test(NAME bench_hostile_smoke
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/bench/hostile/measure.sh --smoke
                 --new $<TARGET_FILE:ftpalgd>)
set_tests_properties(bench_hostile_smoke PROPERTIES LABELS bench TIMEOUT 180
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
