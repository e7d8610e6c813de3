# A real server announcing another address than its own in 227 (vsftpd pasv_address=) through
# ftpalgd (label netns, root; included by tests/netns/CMakeLists.txt): refused by default with
# reason pasv_address_mismatch (the client cannot open its data connection), and with
# pasv_address_mismatch = "rewrite_to_peer" rewritten to the server's control-connection
# address, without NAT and behind DNAT (the download passes its SHA-256 check). See
# pasv_mismatch_test.sh.
foreach(case refuse rewrite rewrite_dnat)
  add_test(NAME netns_pasv_mismatch.${case}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/pasv_mismatch_test.sh $<TARGET_FILE:ftpalgd> ${case})
  set_tests_properties(netns_pasv_mismatch.${case} PROPERTIES LABELS netns TIMEOUT 120
                       SKIP_RETURN_CODE 77)
endforeach()
