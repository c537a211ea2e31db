# DCDM (Deep Conjugate Direction Method): the network, the KSP/PC types, training data and drivers.
neurops_add_test(NAME test_dcdm_net SOURCES operators/test_dcdm_net.cpp LABELS gradcheck unit)
neurops_add_test(NAME test_dcdm_solvers SOURCES solvers/fixture.cpp solvers/test_dcdm_solvers.cpp solvers/test_dcdm_training.cpp
                 LABELS unit)
neurops_add_test(NAME test_dcdm_mpi SOURCES solvers/fixture.cpp solvers/test_dcdm_mpi.cpp LABELS unit mpi MPI_RANKS 2)

# The driver end to end on a tiny problem: data, one epoch, DCDM against the four baselines.
neurops_add_example_test(NAME example_dcdm_poisson PROGRAM dcdm_poisson
                         ARGS -dcdm_n 8 -dcdm_samples 20 -dcdm_epochs 1 -dcdm_net_variant n64 -dcdm_net_channels 4
                              -dcdm_test_n 8 -dcdm_obstacle 0.25 -dcdm_rtol 1e-6)
set_tests_properties(example_dcdm_poisson PROPERTIES
  PASS_REGULAR_EXPRESSION "trained in .*DCDM +[0-9]+ .*CG\\+BoomerAMG .*solid sphere.*residual histories"
  FAIL_REGULAR_EXPRESSION "error:")

# Benchmark smoke run (the full run: OMP_NUM_THREADS=2 build/bench/dcdm_apply).
if(TARGET bench_dcdm_apply)
  add_test(NAME bench_dcdm_apply_smoke COMMAND bench_dcdm_apply -n 16 -runs 1 -smoke)
  set_tests_properties(bench_dcdm_apply_smoke PROPERTIES LABELS bench ENVIRONMENT "OMP_NUM_THREADS=2"
                       PASS_REGULAR_EXPRESSION "of GEMM")
endif()
