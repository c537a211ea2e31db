neurops_add_test(NAME test_deeponet SOURCES operators/test_deeponet.cpp LABELS gradcheck unit)
neurops_add_test(NAME test_mgno SOURCES operators/test_mgno.cpp LABELS gradcheck unit)
neurops_add_test(NAME test_model_io SOURCES operators/test_model_io.cpp LABELS unit)
neurops_add_test(NAME test_predict_allocation SOURCES operators/test_predict_allocation.cpp LABELS unit)

if(NEUROPS_BUILD_EXAMPLES)
  neurops_add_example_test(NAME example_deeponet_antiderivative PROGRAM deeponet_antiderivative
                           ARGS -deeponet_train 300 -deeponet_test 20 -deeponet_iterations 300 -deeponet_display_every 100
                                -deeponet_out deeponet_antiderivative_output)
  neurops_add_saved_model_check(DRIVER_TEST example_deeponet_antiderivative NAME deeponet
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/example_deeponet_antiderivative.out/deeponet_antiderivative_output)
  neurops_add_example_test(NAME example_deeponet_diffusion_reaction PROGRAM deeponet_antiderivative
                           ARGS -deeponet_problem diffusion_reaction -deeponet_sensors 20 -deeponet_train 10 -deeponet_test 4
                                -deeponet_iterations 100 -deeponet_display_every 50 -deeponet_batch 200
                                -deeponet_out deeponet_diffusion_reaction_output)
  neurops_add_saved_model_check(DRIVER_TEST example_deeponet_diffusion_reaction NAME deeponet
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/example_deeponet_diffusion_reaction.out/deeponet_diffusion_reaction_output)
  neurops_add_example_test(NAME example_mgno_darcy PROGRAM mgno_darcy
                           ARGS -mgno_grids 32 -mgno_train 16 -mgno_test 4 -mgno_epochs 1 -mgno_width 6 -mgno_layers 2
                                -mgno_fno_width 6 -mgno_fno_modes 4 -mgno_out mgno_darcy_output)
  foreach(model mgno fno)
    neurops_add_saved_model_check(DRIVER_TEST example_mgno_darcy NAME ${model} DATA test_data_32.h5
      OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/example_mgno_darcy.out/mgno_darcy_output)
  endforeach()
  # Under MPI the ranks train together and rank 0 alone writes: the files are whole and load.
  neurops_add_example_test(NAME example_mgno_darcy_mpi PROGRAM mgno_darcy MPI_RANKS 2
                           ARGS -mgno_grids 32 -mgno_train 16 -mgno_test 4 -mgno_epochs 1 -mgno_width 6 -mgno_layers 2
                                -mgno_no_fno -mgno_out mgno_darcy_output)
  set_tests_properties(example_mgno_darcy_mpi PROPERTIES LABELS "example;mpi")
  neurops_add_saved_model_check(DRIVER_TEST example_mgno_darcy_mpi NAME mgno DATA test_data_32.h5
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/example_mgno_darcy_mpi.out/mgno_darcy_output)
  neurops_add_example_test(NAME example_deeponet_antiderivative_mpi PROGRAM deeponet_antiderivative MPI_RANKS 2
                           ARGS -deeponet_train 300 -deeponet_test 20 -deeponet_iterations 100 -deeponet_display_every 50
                                -deeponet_out deeponet_antiderivative_output)
  set_tests_properties(example_deeponet_antiderivative_mpi PROPERTIES LABELS "example;mpi")
  neurops_add_saved_model_check(DRIVER_TEST example_deeponet_antiderivative_mpi NAME deeponet
    OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/example_deeponet_antiderivative_mpi.out/deeponet_antiderivative_output)
endif()

foreach(bench deeponet_train_step mgno_train_step)
  if(TARGET bench_${bench})
    add_test(NAME bench_${bench}_smoke COMMAND bench_${bench} -bench_smoke)
    set_tests_properties(bench_${bench}_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  endif()
endforeach()

# Batch-1 predict latency of every saved operator (the full run: OMP_NUM_THREADS=2 build/bench/predict_latency).
if(TARGET bench_predict_latency)
  add_test(NAME bench_predict_latency_smoke COMMAND bench_predict_latency -bench_smoke)
  set_tests_properties(bench_predict_latency_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       PASS_REGULAR_EXPRESSION "summary\tpredict_latency\tDCDM network")
endif()
