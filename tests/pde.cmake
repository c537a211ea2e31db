# pde/: GRF samplers, Darcy, Navier-Stokes, DeepONet data, the data generator.
neurops_add_test(NAME test_pde
                 SOURCES pde/test_main.cpp pde/test_grf.cpp pde/test_navier_stokes.cpp pde/test_darcy.cpp pde/test_deeponet_data.cpp
                 LABELS unit)
neurops_add_test(NAME test_pde_mpi SOURCES pde/test_main.cpp pde/test_darcy_mpi.cpp LABELS mpi MPI_RANKS 2)
