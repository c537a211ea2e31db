# Spectral layers, transforms, initialisers, optimizers, schedulers and losses.
neurops_add_test(NAME test_spectral_layers SOURCES spectral/main.cpp spectral/test_spectral_layers.cpp
                 LABELS gradcheck)
