# Spectral layers, transforms, initialisers, optimizers, schedulers and losses.
neurops_add_test(NAME test_spectral_gradcheck SOURCES spectral/main.cpp spectral/test_spectral_layers.cpp
                 spectral/test_losses.cpp LABELS gradcheck)
neurops_add_test(NAME test_spectral_optim SOURCES spectral/main.cpp spectral/test_optim.cpp spectral/test_init_threads.cpp
                 LABELS unit)
# Seconds-long smoke run of the SpectralConv / Adam benchmark (with the PyTorch peer when present).
if(TARGET bench_spectral_conv)
  add_test(NAME bench_spectral_conv_smoke COMMAND bench_spectral_conv -bench_smoke)
  set_tests_properties(bench_spectral_conv_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()
