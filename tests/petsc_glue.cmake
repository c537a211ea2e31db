# neurops inside simulation codes: the DMDA bridge, the KSPGuess type "neurops", Darcy for host codes
# and fields exchanged with PETSc's own HDF5 viewer.
neurops_add_test(NAME test_dmda_bridge SOURCES solvers/fixture.cpp solvers/test_dmda_bridge.cpp LABELS unit)
# The same checks with the grid split over two ranks: the results must be those of one process.
neurops_add_test(NAME test_dmda_bridge_mpi SOURCES solvers/fixture.cpp solvers/test_dmda_bridge.cpp LABELS unit mpi
                 MPI_RANKS 2)
