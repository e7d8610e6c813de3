# Kernel adapter tests (PinholeTable, Conntrack) in namespaces the test creates; root only.
# Included by tests/netns/CMakeLists.txt.
add_executable(adapter_probe ${CMAKE_CURRENT_LIST_DIR}/adapter_probe.cc)
target_link_libraries(adapter_probe PRIVATE ftpalg_kernel)
target_compile_options(adapter_probe PRIVATE ${FTPALG_WARNINGS})

add_test(NAME netns_kernel_adapters
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/kernel_adapters_test.sh $<TARGET_FILE:adapter_probe>)
set_tests_properties(netns_kernel_adapters PROPERTIES LABELS netns TIMEOUT 300
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

