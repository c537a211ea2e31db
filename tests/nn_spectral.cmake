# Spectral layers, transforms, initialisers, optimizers, schedulers and losses.
neurops_add_test(NAME test_spectral_gradcheck SOURCES spectral/main.cpp spectral/test_spectral_layers.cpp
                 spectral/test_losses.cpp LABELS gradcheck)
neurops_add_test(NAME test_spectral_optim SOURCES spectral/main.cpp spectral/test_optim.cpp LABELS unit)
