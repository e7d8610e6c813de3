# Blind RSTs at a rewritten, liberally tracked control connection (label netns, root): the
# daemon puts the conntrack entry back to ESTABLISHED and the session goes on. Included by
# tests/netns/CMakeLists.txt. About 20 s. It was labelled manual for a while: the forger learnt
# sequence numbers from its own RSTs (some then landed in the engine's window, which rightly
# ended the session) or missed the one NOOP it learns from (a fixed pause); both fixed in
# hostile/attack.py spoof (--ready, RSTs and SYNs not learnt).
add_test(NAME netns_spoofed_rst
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/spoofed_rst_test.sh $<TARGET_FILE:ftpalgd>
                 $<TARGET_FILE:ftpalg>)
set_tests_properties(netns_spoofed_rst PROPERTIES LABELS netns RUN_SERIAL TRUE TIMEOUT 180 SKIP_RETURN_CODE 77)
