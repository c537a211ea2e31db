# DCDM (Deep Conjugate Direction Method): the network, the KSP/PC types, training data and drivers.
neurops_add_test(NAME test_dcdm_net SOURCES operators/test_dcdm_net.cpp LABELS gradcheck unit)
