# The metrics endpoint of ftpalgd on a live gateway (label netns, root; included by
# tests/netns/CMakeLists.txt): real transfers (curl, ftplib against vsftpd) through ftpalgd,
# scraped during and after the run over the Unix socket, loopback TCP and the textfile with
# the Prometheus client library's parser and promtool; the counts must match the events file.
# See metrics_test.sh.
add_test(NAME netns_metrics
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/metrics_test.sh $<TARGET_FILE:ftpalgd>)
set_tests_properties(netns_metrics PROPERTIES LABELS netns TIMEOUT 240 SKIP_RETURN_CODE 77)
