# The API reference builds without a single Doxygen warning (cmake/neuropsDocs.cmake makes warnings
# errors): a malformed comment or a broken reference in a public header fails this test.
if(TARGET docs)
  add_test(NAME docs_build COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs)
  set_tests_properties(docs_build PROPERTIES LABELS unit)
endif()
