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
