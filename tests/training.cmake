neurops_add_test(NAME test_training_data SOURCES training/test_data.cpp training/test_normalizer.cpp LABELS unit)
neurops_add_test(NAME test_training_mpi SOURCES training/test_distributed.cpp LABELS mpi MPI_RANKS 2)
neurops_add_test(NAME test_fno SOURCES training/test_fno.cpp LABELS gradcheck)
neurops_add_test(NAME test_trainer SOURCES training/test_trainer.cpp LABELS unit)
neurops_add_test(NAME test_trainer_mpi SOURCES training/test_trainer_mpi.cpp LABELS mpi MPI_RANKS 2)
if(TARGET bench_fno_train_step)
  add_test(NAME bench_fno_train_step_smoke COMMAND bench_fno_train_step -bench_smoke)
  # The machine-readable line scripts/bench.sh gathers: bench, row, neurops ms, peer ms, ratio, spread, % GEMM.
  set_tests_properties(
    bench_fno_train_step_smoke
    PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
               PASS_REGULAR_EXPRESSION
               "summary\tfno_train_step\ttrain step\t[0-9.]+\t[0-9.]+\t[0-9.]+\t[0-9.]+-[0-9.]+\t[0-9.]+\n")
endif()

# fno_train end to end on a small Darcy dataset written by neurops_generate (a CTest fixture).
if(TARGET fno_train AND TARGET neurops_generate)
  set(fno_work ${CMAKE_CURRENT_BINARY_DIR}/example_fno_train.out)
  file(MAKE_DIRECTORY ${fno_work})
  add_test(NAME example_fno_train_data
           COMMAND neurops_generate -gen_problem darcy -gen_samples 24 -darcy_n 33 -gen_seed 4 -gen_overwrite -gen_out ${fno_work}/darcy.h5)
  set_tests_properties(example_fno_train_data PROPERTIES FIXTURES_SETUP fno_darcy_data LABELS example)
  neurops_add_example_test(NAME example_fno_train PROGRAM fno_train
                           ARGS -fno_data ${fno_work}/darcy.h5 -fno_stride 2 -fno_epochs 3 -fno_batch 4
                                -fno_width 8 -fno_modes 4 -fno_layers 2 -fno_projection 16 -fno_out ${fno_work}/run -fno_overwrite)
  set_tests_properties(example_fno_train PROPERTIES FIXTURES_REQUIRED fno_darcy_data)
  neurops_add_saved_model_check(DRIVER_TEST example_fno_train OUTPUT ${fno_work}/run NAME fno)
  neurops_add_example_test(NAME example_fno_train_mpi PROGRAM fno_train MPI_RANKS 2
                           ARGS -fno_data ${fno_work}/darcy.h5 -fno_stride 2 -fno_epochs 2 -fno_batch 4
                                -fno_width 8 -fno_modes 4 -fno_layers 2 -fno_projection 16 -fno_out ${fno_work}/run_mpi -fno_overwrite)
  set_tests_properties(example_fno_train_mpi PROPERTIES FIXTURES_REQUIRED fno_darcy_data LABELS "example;mpi")
  # The same seed gives the same bits: two processes train with the same options into output folders
  # of different name lengths (which moved the heap, and with it Eigen's alignment peeling in the
  # spectral layers, before their buffers were 64-byte aligned), and every checkpoint tensor agrees.
  add_executable(compare_checkpoints training/compare_checkpoints.cpp)
  target_link_libraries(compare_checkpoints PRIVATE neurops::neurops)
  set(fno_repro_args -fno_data ${fno_work}/darcy.h5 -fno_stride 2 -fno_epochs 3 -fno_batch 4 -fno_width 8
                     -fno_modes 4 -fno_layers 2 -fno_projection 16 -fno_overwrite)
  string(JOIN " " fno_repro_args ${fno_repro_args})
  add_test(NAME example_fno_train_reproducible
           COMMAND bash -c "set -e; '$<TARGET_FILE:fno_train>' ${fno_repro_args} -fno_out ${fno_work}/repro_a > /dev/null
             '$<TARGET_FILE:fno_train>' ${fno_repro_args} -fno_out ${fno_work}/repro_second_run > /dev/null
             for f in checkpoint.h5 best.h5; do
               '$<TARGET_FILE:compare_checkpoints>' ${fno_work}/repro_a/$f ${fno_work}/repro_second_run/$f
             done")
  # The "outputs" line names exactly the files the run wrote (here: no validation split, so no
  # best.h5), and there is no zero-shot row when the evaluation grid is the training grid.
  add_test(NAME example_fno_train_outputs_line
           COMMAND bash -c "set -e; rm -rf ${fno_work}/outputs_line
             log=$('$<TARGET_FILE:fno_train>' ${fno_repro_args} -fno_stride 1 -fno_validation_fraction 0 -fno_out ${fno_work}/outputs_line 2>&1)
             echo \"$log\"
             if grep -q zero-shot <<< \"$log\"; then exit 1; fi
             listed=$(sed -n 's/^outputs .*{\\(.*\\)}$/\\1/p' <<< \"$log\" | tr -d ' ' | tr ',' '\\n' | sort)
             test -n \"$listed\"
             diff <(echo \"$listed\") <(ls ${fno_work}/outputs_line | sort)")
  set_tests_properties(example_fno_train_outputs_line PROPERTIES FIXTURES_REQUIRED fno_darcy_data LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  # Too many modes for the training grid: an error naming the option, the modes and the grid, before
  # any training (no checkpoint is written). An option under its old name is reported with the new one.
  add_test(NAME example_fno_train_too_many_modes
           COMMAND bash -c "set -e; if log=$('$<TARGET_FILE:fno_train>' ${fno_repro_args} -fno_modes 10 -train_epochs 1 -fno_out ${fno_work}/too_many_modes 2>&1); then exit 1; fi
             echo \"$log\"
             grep -qF 'option -fno_modes (10, 10): the training grid (after -fno_stride 2) (17, 17) is too small' <<< \"$log\"
             grep -qF 'WARNING: option -train_epochs is not used; did you mean -fno_epochs?' <<< \"$log\"
             test ! -e ${fno_work}/too_many_modes/checkpoint.h5")
  set_tests_properties(example_fno_train_too_many_modes PROPERTIES FIXTURES_REQUIRED fno_darcy_data LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  set_tests_properties(example_fno_train_reproducible PROPERTIES FIXTURES_REQUIRED fno_darcy_data LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()
