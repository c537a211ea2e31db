# pde/: GRF samplers, Darcy, Navier-Stokes, DeepONet data, the data generator.
neurops_add_test(NAME test_pde
                 SOURCES pde/test_main.cpp pde/test_grf.cpp pde/test_navier_stokes.cpp pde/test_darcy.cpp pde/test_deeponet_data.cpp
                 LABELS unit)
# The Spectral-Refiner residual estimator; and against the reference's formulas in PyTorch (Debian's
# python3-torch and python3-h5py, installed by scripts/install-deps.sh).
neurops_add_test(NAME test_ns_residual SOURCES pde/test_main.cpp pde/test_ns_residual.cpp LABELS gradcheck unit)
add_executable(ns_residual_dump pde/ns_residual_dump.cpp)
target_link_libraries(ns_residual_dump PRIVATE neurops::neurops)
find_program(NEUROPS_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NEUROPS_SYSTEM_PYTHON)
  execute_process(COMMAND ${NEUROPS_SYSTEM_PYTHON} -c "import h5py, torch" RESULT_VARIABLE have_torch
                  OUTPUT_QUIET ERROR_QUIET)
  if(have_torch EQUAL 0)
    add_test(NAME test_ns_residual_torch
             COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/pde/check_ns_residual_torch.py
                     $<TARGET_FILE:ns_residual_dump> ${CMAKE_CURRENT_BINARY_DIR}/ns_residual_torch_check)
    set_tests_properties(test_ns_residual_torch PROPERTIES LABELS unit)
  else()
    message(STATUS "test_ns_residual_torch not registered: python3 cannot import h5py and torch (python3-torch)")
  endif()
endif()
neurops_add_test(NAME test_pde_mpi SOURCES pde/test_main.cpp pde/test_darcy_mpi.cpp LABELS mpi MPI_RANKS 2)
# The generator end to end (spawns the program, once through mpiexec).
if(TARGET neurops_generate)
  neurops_add_test(NAME test_pde_generate SOURCES pde/test_generate.cpp LABELS example
                   ARGS -- $<TARGET_FILE:neurops_generate> ${MPIEXEC_EXECUTABLE})
  add_dependencies(test_pde_generate neurops_generate)
  neurops_add_example_test(NAME example_neurops_generate_darcy PROGRAM neurops_generate
                           ARGS -gen_problem darcy -gen_samples 4 -darcy_n 33 -gen_overwrite)
  neurops_add_example_test(NAME example_neurops_generate_darcy_mpi PROGRAM neurops_generate MPI_RANKS 2
                           ARGS -gen_problem darcy -gen_samples 4 -darcy_n 33 -darcy_pc_type hypre -gen_out darcy_mpi.h5 -gen_overwrite)
  neurops_add_example_test(NAME example_neurops_generate_navier_stokes PROGRAM neurops_generate
                           ARGS -gen_problem navier_stokes -gen_samples 2 -ns_n 64 -ns_store 32 -ns_dt 0.005 -ns_times 0.05,0.1 -gen_overwrite)
  neurops_add_example_test(NAME example_neurops_generate_antiderivative PROGRAM neurops_generate
                           ARGS -gen_problem antiderivative -gen_samples 16 -gen_overwrite)
endif()

# Seconds-long smoke runs of the benchmarks (the real runs are in bench/, see the report commands).
if(TARGET bench_navier_stokes_step)
  add_test(NAME bench_navier_stokes_step_smoke COMMAND bench_navier_stokes_step -bench_smoke)
  add_test(NAME bench_darcy_throughput_smoke COMMAND bench_darcy_throughput -bench_smoke)
  add_test(NAME bench_ns_residual_smoke COMMAND bench_ns_residual -bench_smoke)
  add_test(NAME bench_ns_residual_frames_smoke COMMAND bench_ns_residual -bench_smoke -bench_time_derivative frames)
  set_tests_properties(bench_navier_stokes_step_smoke bench_darcy_throughput_smoke bench_ns_residual_smoke
                       bench_ns_residual_frames_smoke
                       PROPERTIES LABELS bench
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()
