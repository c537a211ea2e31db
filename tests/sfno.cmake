# SFNO of the Spectral-Refiner: its layers and the model (gradient and adjoint checks, other output
# steps, a finer grid, checkpoints through load_model, bad input), and a cross-check against a float64
# PyTorch implementation of the reference's semantics with the same weights.
neurops_add_test(NAME test_sfno SOURCES operators/test_sfno.cpp LABELS gradcheck unit)

# sfno_dump writes a checkpoint, inputs, outputs and gradients; check_sfno_torch.py rebuilds the model
# in PyTorch (Debian's python3-torch) from the checkpoint and compares.
add_executable(sfno_dump operators/sfno_dump.cpp)
target_link_libraries(sfno_dump PRIVATE neurops::neurops)
find_program(NEUROPS_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NEUROPS_SYSTEM_PYTHON)
  execute_process(COMMAND ${NEUROPS_SYSTEM_PYTHON} -c "import h5py, torch" RESULT_VARIABLE have_torch
                  OUTPUT_QUIET ERROR_QUIET)
  if(have_torch EQUAL 0)
    add_test(NAME test_sfno_torch
             COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/operators/check_sfno_torch.py
                     $<TARGET_FILE:sfno_dump> ${CMAKE_CURRENT_BINARY_DIR}/sfno_torch_check)
    set_tests_properties(test_sfno_torch PROPERTIES LABELS unit ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  else()
    message(STATUS "test_sfno_torch not registered: python3 cannot import h5py and torch (python3-torch)")
  endif()
endif()

# The checkpoint sfno_dump writes is read by h5py against the config-SFNO table of docs/file-formats.md.
if(COMMAND neurops_add_h5py_check)
  neurops_add_h5py_check(test_io_h5py_sfno sfno-dump=sfno_dump)
endif()

if(TARGET bench_sfno_train_step)
  add_test(NAME bench_sfno_train_step_smoke COMMAND bench_sfno_train_step -bench_smoke)
  set_tests_properties(bench_sfno_train_step_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()

# Spectral-Refiner fine-tuning: exact reproduction at initialisation, the residual loss's gradient
# against finite differences, the residual decreasing, bad input.
neurops_add_test(NAME test_sfno_finetune SOURCES operators/test_sfno_finetune.cpp LABELS gradcheck unit)

# The SFNO Navier-Stokes driver end to end on tiny data (32^2 training, 64^2 fine trajectories, 16
# frames): 2 epochs, 3 fine-tuning iterations; check_sfno_run then loads best.h5 through
# neurops::load_model and checks the written files and the finiteness of the results.
if(TARGET sfno_navier_stokes AND TARGET neurops_generate)
  set(sfno_work ${CMAKE_CURRENT_BINARY_DIR}/example_sfno_navier_stokes.out)
  file(MAKE_DIRECTORY ${sfno_work})
  set(sfno_gen -gen_problem navier_stokes -ns_preset sfno -ns_store 32 -ns_warmup 0.5 -ns_t_end 2.1 -ns_snapshots 16
               -gen_overwrite)
  add_test(NAME example_sfno_navier_stokes_data
           COMMAND neurops_generate ${sfno_gen} -ns_n 32 -gen_samples 12 -gen_seed 3 -gen_out ${sfno_work}/train.h5)
  add_test(NAME example_sfno_navier_stokes_fine_data
           COMMAND neurops_generate ${sfno_gen} -ns_n 64 -gen_samples 2 -gen_seed 9 -gen_out ${sfno_work}/fine.h5)
  set_tests_properties(example_sfno_navier_stokes_data example_sfno_navier_stokes_fine_data
                       PROPERTIES FIXTURES_SETUP sfno_ns_data LABELS example ENVIRONMENT "OMP_NUM_THREADS=1")
  neurops_add_example_test(
    NAME example_sfno_navier_stokes PROGRAM sfno_navier_stokes
    ARGS -sfnons_data ${sfno_work}/train.h5 -sfnons_fine ${sfno_work}/fine.h5 -sfnons_train 6 -sfnons_validation 3
         -sfnons_test 3 -sfnons_epochs 2 -sfnons_batch 2 -sfno_input_steps 6 -sfno_latent_steps 5
         -sfno_output_steps 6 -sfno_width 4 -sfno_layers 2 -sfno_modes_x 4 -sfno_modes_y 4 -sfno_modes_t 3
         -sfnons_refine_modes 8,8,4 -sfnons_refine_iterations 3 -sfnons_out ${sfno_work}/run)
  set_tests_properties(example_sfno_navier_stokes PROPERTIES FIXTURES_REQUIRED sfno_ns_data
                       FIXTURES_SETUP sfno_ns_run)
  # Too many spatial modes for the data grid: an error naming the options before the model is built.
  add_test(NAME example_sfno_navier_stokes_too_many_modes
           COMMAND bash -c "set -e; if log=$('$<TARGET_FILE:sfno_navier_stokes>' -sfnons_data ${sfno_work}/train.h5 -sfnons_train 6 -sfnons_validation 3 -sfnons_test 3 -sfnons_epochs 1 -sfno_input_steps 6 -sfno_latent_steps 5 -sfno_output_steps 6 -sfno_width 4 -sfno_layers 2 -sfno_modes_x 17 -sfno_modes_y 4 -sfno_modes_t 3 -sfnons_out ${sfno_work}/modes 2>&1); then exit 1; fi
             echo \"$log\"
             grep -qF 'option -sfno_modes_x/-sfno_modes_y/-sfno_modes_t (17, 4, 3): the data grid x latent frames (32, 32, 5) is too small, axis 0' <<< \"$log\"")
  set_tests_properties(example_sfno_navier_stokes_too_many_modes PROPERTIES FIXTURES_REQUIRED sfno_ns_data
                       LABELS example ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
  add_executable(check_sfno_run operators/check_sfno_run.cpp)
  target_link_libraries(check_sfno_run PRIVATE neurops::neurops)
  add_test(NAME example_sfno_navier_stokes_check COMMAND check_sfno_run ${sfno_work}/run)
  set_tests_properties(example_sfno_navier_stokes_check PROPERTIES FIXTURES_REQUIRED sfno_ns_run LABELS example
                       ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()

if(TARGET bench_sfno_finetune_step)
  add_test(NAME bench_sfno_finetune_step_smoke COMMAND bench_sfno_finetune_step -bench_smoke)
  set_tests_properties(bench_sfno_finetune_step_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()
