# nn layers: Module base, layers, initialisers (unit) and their gradient checks (gradcheck).
neurops_add_test(NAME test_nn_layers
                 SOURCES nn/test_module.cpp nn/test_layers.cpp nn/test_init.cpp
                 LABELS unit)
neurops_add_test(NAME test_nn_gradcheck SOURCES nn/test_gradcheck.cpp LABELS gradcheck)

# Seconds-long version of the convolution benchmark (neurops vs PyTorch, with a numerical cross-check).
if(TARGET bench_conv_layers)
  add_test(NAME bench_conv_layers_smoke COMMAND bench_conv_layers -bench_smoke)
  set_tests_properties(bench_conv_layers_smoke PROPERTIES LABELS bench
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endif()
