neurops_add_test(NAME test_training_data SOURCES training/test_data.cpp training/test_normalizer.cpp LABELS unit)
neurops_add_test(NAME test_training_mpi SOURCES training/test_distributed.cpp LABELS mpi MPI_RANKS 2)
