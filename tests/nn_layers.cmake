# nn layers: Module base, layers, initialisers (unit) and their gradient checks (gradcheck).
neurops_add_test(NAME test_nn_layers
                 SOURCES nn/test_module.cpp nn/test_layers.cpp nn/test_init.cpp
                 LABELS unit)
neurops_add_test(NAME test_nn_gradcheck SOURCES nn/test_gradcheck.cpp LABELS gradcheck)
