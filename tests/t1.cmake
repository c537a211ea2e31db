# Transform Once (T1): layers, model, loss, mode selection and bad input; the DCT against scipy; the
# Navier-Stokes driver end to end with its checkpoints loaded through neurops::load_model.
neurops_add_test(NAME test_t1 SOURCES operators/test_t1.cpp LABELS gradcheck unit)

# scipy.fft.dctn(norm="ortho") (Debian's python3-scipy, installed by scripts/install-deps.sh) agrees
# with the DCT layers T1 transforms with.
add_executable(dct_dump spectral/dct_dump.cpp)
target_link_libraries(dct_dump PRIVATE neurops::neurops)
find_program(NEUROPS_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NEUROPS_SYSTEM_PYTHON)
  execute_process(COMMAND ${NEUROPS_SYSTEM_PYTHON} -c "import h5py, scipy.fft" RESULT_VARIABLE have_scipy
                  OUTPUT_QUIET ERROR_QUIET)
  if(have_scipy EQUAL 0)
    add_test(NAME test_dct_scipy
             COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/spectral/check_dct_scipy.py
                     $<TARGET_FILE:dct_dump> ${CMAKE_CURRENT_BINARY_DIR}/dct_scipy_check)
    set_tests_properties(test_dct_scipy PROPERTIES LABELS unit)
  else()
    message(STATUS "test_dct_scipy not registered: python3 cannot import h5py and scipy (python3-scipy)")
  endif()
endif()

if(TARGET t1_navier_stokes AND TARGET neurops_generate)
  set(t1_work ${CMAKE_CURRENT_BINARY_DIR}/example_t1_navier_stokes.out)
  file(MAKE_DIRECTORY ${t1_work})
  add_test(NAME example_t1_navier_stokes_data
           COMMAND neurops_generate -gen_problem navier_stokes -gen_samples 10 -ns_n 32 -ns_store 32 -ns_times 0.5,1
                   -gen_seed 3 -gen_overwrite -gen_out ${t1_work}/ns.h5)
  set_tests_properties(example_t1_navier_stokes_data PROPERTIES FIXTURES_SETUP t1_ns_data LABELS example)
  set(t1_small -t1ns_data ${t1_work}/ns.h5 -t1ns_target_time 1 -t1ns_train 6 -t1ns_test 4 -t1ns_epochs 2
               -t1ns_batch 3 -t1_modes 6 -t1_width 6 -t1_layers 2 -t1_head 8
               -fno_modes 4 -fno_width 6 -fno_layers 2 -fno_projection 8)
  neurops_add_example_test(NAME example_t1_navier_stokes PROGRAM t1_navier_stokes
                           ARGS ${t1_small} -t1ns_out ${t1_work}/run)
  set_tests_properties(example_t1_navier_stokes PROPERTIES FIXTURES_REQUIRED t1_ns_data)
  foreach(model t1 fno)
    neurops_add_saved_model_check(DRIVER_TEST example_t1_navier_stokes OUTPUT ${t1_work}/run NAME ${model})
  endforeach()
  # The energy selection runs end to end and its checkpoint loads.
  neurops_add_example_test(NAME example_t1_navier_stokes_energy PROGRAM t1_navier_stokes
                           ARGS ${t1_small} -t1_selection energy -t1ns_no_fno -t1ns_out ${t1_work}/energy)
  set_tests_properties(example_t1_navier_stokes_energy PROPERTIES FIXTURES_REQUIRED t1_ns_data)
  neurops_add_saved_model_check(DRIVER_TEST example_t1_navier_stokes_energy OUTPUT ${t1_work}/energy NAME t1)
  # A file without the frame the configuration expects is a clear error.
  neurops_add_example_test(NAME example_t1_navier_stokes_missing_frame PROGRAM t1_navier_stokes
                           ARGS ${t1_small} -t1ns_target_time 7 -t1ns_out ${t1_work}/missing)
  set_tests_properties(example_t1_navier_stokes_missing_frame PROPERTIES FIXTURES_REQUIRED t1_ns_data
                       PASS_REGULAR_EXPRESSION "holds no snapshot at t = 7 \\(its times: 0.5, 1\\)")
  # Too many FNO modes for the data grid: an error naming the option before T1 trains (the run
  # folder then holds no t1.h5); it used to surface inside the FNO's first forward pass, after T1.
  string(JOIN " " t1_small_args ${t1_small})
  add_test(NAME example_t1_navier_stokes_too_many_fno_modes
           COMMAND bash -c "set -e; rm -rf ${t1_work}/modes
             if log=$('$<TARGET_FILE:t1_navier_stokes>' ${t1_small_args} -fno_modes 17 -t1ns_out ${t1_work}/modes 2>&1); then exit 1; fi
             echo \"$log\"
             grep -qF 'option -fno_modes (17, 17): the data grid (32, 32) is too small' <<< \"$log\"
             test ! -e ${t1_work}/modes/t1.h5")
  set_tests_properties(example_t1_navier_stokes_too_many_fno_modes PROPERTIES FIXTURES_REQUIRED t1_ns_data
                       LABELS example ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()

if(TARGET bench_t1_train_step)
  add_test(NAME bench_t1_train_step_smoke COMMAND bench_t1_train_step -bench_smoke)
  set_tests_properties(bench_t1_train_step_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()
