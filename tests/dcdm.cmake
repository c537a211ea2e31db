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
  add_test(NAME bench_dcdm_apply_smoke COMMAND bench_dcdm_apply -n 16 -runs 1 -bench_smoke)
  set_tests_properties(bench_dcdm_apply_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       PASS_REGULAR_EXPRESSION "summary\tdcdm_apply\tconv 3x3x3")
endif()

# PETSc's ex45 (3-D 7-point Laplacian on a DMDA, Dirichlet rows) built unmodified, selecting KSP dcdm
# through -dll_append with the shipped model (found without any option), then the clear error of the
# default 7^3 grid (odd), and -help listing the options.
if(NEUROPS_PETSC_KSP_TUTORIALS AND EXISTS ${NEUROPS_PETSC_KSP_TUTORIALS}/ex45.c
   AND EXISTS ${PROJECT_SOURCE_DIR}/models/dcdm_poisson.h5)
  add_executable(petsc_ksp_tutorial_ex45 ${NEUROPS_PETSC_KSP_TUTORIALS}/ex45.c)
  target_link_libraries(petsc_ksp_tutorial_ex45 PRIVATE neurops_deps::petsc MPI::MPI_C)  # not linked to neurops
  set(dcdm_env "${NEUROPS_TEST_ENVIRONMENT}")
  add_test(NAME test_dcdm_in_petsc_ex45
           COMMAND petsc_ksp_tutorial_ex45 -dll_append $<TARGET_FILE:neurops> -ksp_type dcdm -da_grid_x 16
                   -da_grid_y 16 -da_grid_z 16 -ksp_rtol 1e-6 -ksp_converged_reason -ksp_view)
  set_tests_properties(test_dcdm_in_petsc_ex45 PROPERTIES LABELS unit ENVIRONMENT "${dcdm_env}"
    PASS_REGULAR_EXPRESSION "CONVERGED_RTOL.*type: dcdm.*dcdm_poisson.h5.*grid 16 x 16 x 16"
    FAIL_REGULAR_EXPRESSION "DIVERGED|PETSC ERROR")
  add_test(NAME test_dcdm_odd_grid_in_petsc_ex45
           COMMAND petsc_ksp_tutorial_ex45 -dll_append $<TARGET_FILE:neurops> -ksp_type dcdm)
  set_tests_properties(test_dcdm_odd_grid_in_petsc_ex45 PROPERTIES LABELS unit ENVIRONMENT "${dcdm_env}"
    PASS_REGULAR_EXPRESSION "the grid 7 x 7 x 7 does not fit the network: every side must be even")
  add_test(NAME test_dcdm_help_in_petsc_ex45
           COMMAND petsc_ksp_tutorial_ex45 -dll_append $<TARGET_FILE:neurops> -ksp_type dcdm -da_grid_x 8
                   -da_grid_y 8 -da_grid_z 8 -help)
  set_tests_properties(test_dcdm_help_in_petsc_ex45 PROPERTIES LABELS unit ENVIRONMENT "${dcdm_env}"
    PASS_REGULAR_EXPRESSION "-ksp_dcdm_model.*-ksp_dcdm_precision.*-ksp_dcdm_true_residual")
endif()
