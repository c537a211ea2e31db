# neurops inside simulation codes: the DMDA bridge, the KSPGuess type "neurops", Darcy for host codes
# and fields exchanged with PETSc's own HDF5 viewer.
neurops_add_test(NAME test_dmda_bridge SOURCES solvers/fixture.cpp solvers/test_dmda_bridge.cpp LABELS unit)
# The same checks with the grid split over two ranks: the results must be those of one process.
neurops_add_test(NAME test_dmda_bridge_mpi SOURCES solvers/fixture.cpp solvers/test_dmda_bridge.cpp LABELS unit mpi
                 MPI_RANKS 2)
# DarcySolver driven by a host (initial guess, DM/Mat/KSP) and the Poisson problem of ex45.
neurops_add_test(NAME test_host_solvers SOURCES pde/test_main.cpp pde/test_host_solvers.cpp LABELS unit)

# KSPGuess "neurops" inside PETSc's ex45 (3-D Laplacian on a DMDA, built unmodified, the type brought in
# by -dll_append): a small operator b -> u is trained on ex45's own discretisation (neurops_generate
# -gen_problem poisson, then fno_train), and ex45 runs with and without the guess, on one and two ranks;
# the guess must save iterations. Then the clear errors of a missing model and a model of another grid.
if(NEUROPS_PETSC_KSP_TUTORIALS AND EXISTS ${NEUROPS_PETSC_KSP_TUTORIALS}/ex45.c AND TARGET neurops_generate
   AND TARGET fno_train)
  if(NOT TARGET petsc_ksp_tutorial_ex45)
    add_executable(petsc_ksp_tutorial_ex45 ${NEUROPS_PETSC_KSP_TUTORIALS}/ex45.c)
    target_link_libraries(petsc_ksp_tutorial_ex45 PRIVATE neurops_deps::petsc MPI::MPI_C)  # not linked to neurops
  endif()
  set(guess_work ${CMAKE_CURRENT_BINARY_DIR}/ksp_guess_neurops.out)
  file(MAKE_DIRECTORY ${guess_work})
  add_test(NAME ksp_guess_neurops_data
           COMMAND neurops_generate -gen_problem poisson -poisson_dim 3 -poisson_n 9 -gen_samples 120 -gen_seed 1 -gen_overwrite
                   -gen_preview false -gen_out ${guess_work}/poisson.h5)
  add_test(NAME ksp_guess_neurops_train
           COMMAND fno_train -fno_data ${guess_work}/poisson.h5 -fno_epochs 25 -fno_batch 8 -fno_lr 3e-3
                   -fno_normalizer pointwise -fno_width 8 -fno_modes 4 -fno_layers 2 -fno_projection 16
                   -fno_out ${guess_work}/fno -fno_overwrite)
  # The same data generated on two ranks (the matrix and the solves distributed).
  add_test(NAME ksp_guess_neurops_data_mpi
           COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 2 ${MPIEXEC_PREFLAGS} --oversubscribe
                   $<TARGET_FILE:neurops_generate> -gen_problem poisson -poisson_dim 3 -poisson_n 9 -gen_samples 120 -gen_seed 1
                   -gen_overwrite -gen_preview false -gen_out ${guess_work}/poisson_np2.h5)
  set_tests_properties(ksp_guess_neurops_data_mpi PROPERTIES LABELS "example;mpi" ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       PASS_REGULAR_EXPRESSION "MPI ranks +2.*gmres \\+ gamg")
  set_tests_properties(ksp_guess_neurops_data PROPERTIES FIXTURES_SETUP ksp_guess_data LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  set_tests_properties(ksp_guess_neurops_train PROPERTIES FIXTURES_SETUP ksp_guess_model FIXTURES_REQUIRED
                       ksp_guess_data LABELS example ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  set(ex45_args -dll_append $<TARGET_FILE:neurops> -da_grid_x 9 -da_grid_y 9 -da_grid_z 9 -ksp_type cg
                -pc_type jacobi -ksp_rtol 1e-8)
  set(guess_args -ksp_guess_type neurops -ksp_guess_neurops_model ${guess_work}/fno/best.h5
                 -ksp_guess_neurops_view -ksp_view)
  foreach(ranks 1 2)
    set(launch "")
    if(ranks GREATER 1)
      set(launch ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${MPIEXEC_PREFLAGS} --oversubscribe)
    endif()
    add_test(NAME test_ksp_guess_neurops_in_petsc_ex45_np${ranks}
             COMMAND ${CMAKE_COMMAND} "-DPROGRAM=$<TARGET_FILE:petsc_ksp_tutorial_ex45>" "-DARGS=${ex45_args}"
                     "-DEXTRA=${guess_args}" "-DLAUNCH=${launch}" -P ${CMAKE_CURRENT_SOURCE_DIR}/petsc_glue/compare_iterations.cmake)
    set_tests_properties(test_ksp_guess_neurops_in_petsc_ex45_np${ranks} PROPERTIES FIXTURES_REQUIRED ksp_guess_model
      LABELS "unit;mpi" ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
      PASS_REGULAR_EXPRESSION "ksp guess neurops: .*type: neurops.*neurops model .*best.h5 \\(FNO3d\\), 1 guesses"
      FAIL_REGULAR_EXPRESSION "expected fewer iterations|PETSC ERROR|exit code")
  endforeach()
  add_test(NAME test_ksp_guess_neurops_without_model COMMAND petsc_ksp_tutorial_ex45 ${ex45_args}
           -ksp_guess_type neurops)
  set_tests_properties(test_ksp_guess_neurops_without_model PROPERTIES LABELS unit ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
    PASS_REGULAR_EXPRESSION "-ksp_guess_neurops_model: no trained model given")
  add_test(NAME test_ksp_guess_neurops_other_grid COMMAND petsc_ksp_tutorial_ex45 ${ex45_args} -da_grid_x 11
           -ksp_guess_type neurops -ksp_guess_neurops_model ${guess_work}/fno/best.h5)
  set_tests_properties(test_ksp_guess_neurops_other_grid PROPERTIES FIXTURES_REQUIRED ksp_guess_model LABELS unit
    ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
    PASS_REGULAR_EXPRESSION "best.h5' \\(FNO3d\\) was trained on the grid 9 x 9 x 9, the input is a 3-D DMDA 9 x 9 x 11 \\(z, y, x\\) with 1 dof")
  add_test(NAME test_ksp_guess_neurops_help COMMAND petsc_ksp_tutorial_ex45 ${ex45_args} -ksp_guess_type neurops -help)
  set_tests_properties(test_ksp_guess_neurops_help PROPERTIES LABELS unit ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
    PASS_REGULAR_EXPRESSION "-ksp_guess_neurops_model.*-ksp_guess_neurops_dirichlet.*-ksp_guess_neurops_smooth.*-ksp_guess_neurops_omega.*-ksp_guess_neurops_boundary_only.*-ksp_guess_neurops_view")
endif()

# Fields exchanged with PETSc's HDF5 viewer (VecView / VecLoad on DMDAs), serial and on two ranks.
neurops_add_test(NAME test_petsc_fields SOURCES pde/test_main.cpp io/test_petsc_fields.cpp LABELS unit)
neurops_add_test(NAME test_petsc_fields_mpi SOURCES pde/test_main.cpp io/test_petsc_fields.cpp LABELS unit mpi
                 MPI_RANKS 2)
# fno_train on a PETSc program's own timestepped VecView output (written by test_petsc_fields).
set_tests_properties(test_petsc_fields PROPERTIES FIXTURES_SETUP petsc_simulation_output)
neurops_add_example_test(NAME example_fno_train_petsc_fields PROGRAM fno_train
                         ARGS -fno_data ${CMAKE_CURRENT_BINARY_DIR}/petsc_fields_scratch/simulation_np1.h5
                              -fno_data_petsc_dim 2 -fno_input_name /forcing -fno_output_name /response -fno_train_fraction 0.6
                              -fno_validation_fraction 0.2 -fno_epochs 2 -fno_batch 2 -fno_width 4 -fno_modes 2
                              -fno_layers 1 -fno_projection 8 -fno_out run -fno_overwrite)
set_tests_properties(example_fno_train_petsc_fields PROPERTIES FIXTURES_REQUIRED petsc_simulation_output
                     PASS_REGULAR_EXPRESSION "6 training samples on \\(8, 8\\)")

# step-04: a 2-D Poisson operator trained by the drivers, then the tutorial on one and two ranks.
if(NEUROPS_BUILD_EXAMPLES)
  set(step04_work ${CMAKE_CURRENT_BINARY_DIR}/example_step-04.data)
  file(MAKE_DIRECTORY ${step04_work})
  add_test(NAME example_step-04_data COMMAND neurops_generate -gen_problem poisson -poisson_n 33 -gen_samples 100 -gen_seed 3
                                              -gen_overwrite -gen_preview false -gen_out ${step04_work}/poisson.h5)
  add_test(NAME example_step-04_train
           COMMAND fno_train -fno_data ${step04_work}/poisson.h5 -fno_epochs 12 -fno_batch 8 -fno_lr 3e-3
                   -fno_normalizer pointwise -fno_width 12 -fno_modes 6 -fno_layers 2 -fno_projection 32
                   -fno_out ${step04_work}/fno -fno_overwrite)
  set_tests_properties(example_step-04_data PROPERTIES FIXTURES_SETUP step04_data LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  set_tests_properties(example_step-04_train PROPERTIES FIXTURES_SETUP step04_model FIXTURES_REQUIRED step04_data
                       LABELS example ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  neurops_add_example_test(NAME example_step-04 PROGRAM step-04_initial_guess_in_petsc
                           ARGS -step_model ${step04_work}/fno/best.h5)
  neurops_add_example_test(NAME example_step-04_mpi PROGRAM step-04_initial_guess_in_petsc MPI_RANKS 2
                           ARGS -step_model ${step04_work}/fno/best.h5 -pc_type gamg)
  set_tests_properties(example_step-04 example_step-04_mpi PROPERTIES FIXTURES_REQUIRED step04_model
    PASS_REGULAR_EXPRESSION "loaded FNO2d from .*trained on a \\(33, 33\\) grid.*KSP iterations from zero: [0-9]+, from the boundary values alone: [0-9]+, from the prediction: [0-9]+")
  set_tests_properties(example_step-04_mpi PROPERTIES LABELS "example;mpi")
endif()
