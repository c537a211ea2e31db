neurops_add_test(NAME test_core SOURCES core/test_tensor.cpp core/test_random.cpp core/test_petsc.cpp
                 core/test_option_report.cpp LABELS unit)
neurops_add_test(NAME test_io SOURCES io/test_hdf5.cpp io/test_xdmf_png.cpp io/test_bad_input.cpp io/test_reliability.cpp
                 LABELS unit)

# Install into a temporary prefix, then configure, build and run an external consumer against it;
# with the examples built, the consumer also loads the trained models of three drivers and predicts.
set(consumer_model_args "")
if(NEUROPS_BUILD_EXAMPLES)
  set(demo_output ${CMAKE_CURRENT_BINARY_DIR}/example_neurops_demo.out/demo_output)
  set(mgno_output ${CMAKE_CURRENT_BINARY_DIR}/example_mgno_darcy.out/mgno_darcy_output)
  set(deeponet_output ${CMAKE_CURRENT_BINARY_DIR}/example_deeponet_antiderivative.out/deeponet_antiderivative_output)
  set(consumer_model_args "-DINSTALLED_DRIVER=neurops_generate" "-DHOST_MODEL=${mgno_output}/fno_32.h5"
                          "-DMPIEXEC=${MPIEXEC_EXECUTABLE}")
  list(APPEND consumer_model_args "-DMODELS=${demo_output}/mgno.h5,${demo_output}/test_data.h5,${mgno_output}/fno_32.h5,${mgno_output}/test_data_32.h5,${deeponet_output}/best.h5,${deeponet_output}/test_data.h5")
endif()
add_test(NAME test_install_consumer
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DBINARY_DIR=${PROJECT_BINARY_DIR}
                 -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/consumer_work -DCONFIG=$<CONFIG> ${consumer_model_args}
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer_test.cmake)
set_tests_properties(test_install_consumer PROPERTIES LABELS install TIMEOUT 900)

if(NEUROPS_BUILD_EXAMPLES)
  neurops_add_example_test(NAME example_neurops_demo PROGRAM neurops_demo
                           ARGS -demo_n 48 -demo_train 16 -demo_test 4 -demo_epochs 2 -demo_width 6 -demo_layers 2)
  neurops_add_saved_model_check(DRIVER_TEST example_neurops_demo OUTPUT ${demo_output} NAME mgno)
  set_tests_properties(test_install_consumer PROPERTIES FIXTURES_REQUIRED
                       "example_neurops_demo_output;example_mgno_darcy_output;example_deeponet_antiderivative_output")

  # h5py (Debian's python3-h5py, installed by scripts/install-deps.sh) reads what the drivers write and
  # checks it against the h5spec tables of docs/file-formats.md. Two tests, so that they run side by
  # side: the demo, generated data and an FNO training run; the other drivers' files.
  find_program(NEUROPS_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
  if(NEUROPS_SYSTEM_PYTHON)
    execute_process(COMMAND ${NEUROPS_SYSTEM_PYTHON} -c "import h5py" RESULT_VARIABLE have_h5py OUTPUT_QUIET ERROR_QUIET)
    if(have_h5py EQUAL 0)
      # neurops_add_h5py_check(NAME flag=target ...): passes each built driver as --flag <its executable>.
      function(neurops_add_h5py_check name)
        set(driver_args "")
        foreach(driver IN LISTS ARGN)
          string(REPLACE "=" ";" pair "${driver}")
          list(GET pair 0 flag)
          list(GET pair 1 target)
          if(TARGET ${target})
            list(APPEND driver_args --${flag} $<TARGET_FILE:${target}>)
          endif()
        endforeach()
        add_test(NAME ${name}
                 COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/io/check_h5py.py
                         --spec ${PROJECT_SOURCE_DIR}/docs/file-formats.md --work ${CMAKE_CURRENT_BINARY_DIR}/${name}
                         ${driver_args})
        set_tests_properties(${name} PROPERTIES LABELS unit ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}" TIMEOUT 300)
      endfunction()
      neurops_add_h5py_check(test_io_h5py demo=neurops_demo generate=neurops_generate fno-train=fno_train)
      neurops_add_h5py_check(test_io_h5py_drivers mgno-darcy=mgno_darcy deeponet=deeponet_antiderivative
                             tune-sor=neurops_tune_sor dcdm=dcdm_poisson learning-to-relax=learning_to_relax
                             tune-configs=tune_solver_configs)
    endif()
  endif()
endif()

# ParaView (Debian's paraview and python3-paraview, installed by scripts/install-deps.sh) opens every
# XDMF sidecar the drivers write with its default reader, and pvbatch compares each array it shows with
# h5py. Registered whether or not pvbatch is installed: without it the test fails instead of skipping.
if(NEUROPS_BUILD_EXAMPLES AND NEUROPS_SYSTEM_PYTHON)
  find_program(NEUROPS_PVBATCH pvbatch)
  set(pvbatch pvbatch)  # not found now: the test looks for it in PATH and fails without it
  if(NEUROPS_PVBATCH)
    set(pvbatch ${NEUROPS_PVBATCH})
  endif()
  set(paraview_args "")
  foreach(driver demo=neurops_demo generate=neurops_generate fno-train=fno_train mgno-darcy=mgno_darcy
                 deeponet=deeponet_antiderivative)
    string(REPLACE "=" ";" pair "${driver}")
    list(GET pair 0 flag)
    list(GET pair 1 target)
    if(TARGET ${target})
      list(APPEND paraview_args --${flag} $<TARGET_FILE:${target}>)
    endif()
  endforeach()
  # The Navier-Stokes drivers' own tests (tests/sfno.cmake, tests/t1.cmake) write the other sidecars.
  set(paraview_outputs "")
  set(paraview_fixtures "")
  if(TARGET sfno_navier_stokes AND TARGET neurops_generate)
    list(APPEND paraview_outputs ${CMAKE_CURRENT_BINARY_DIR}/example_sfno_navier_stokes.out/run)
    list(APPEND paraview_fixtures sfno_ns_run)
  endif()
  if(TARGET t1_navier_stokes AND TARGET neurops_generate)
    list(APPEND paraview_outputs ${CMAKE_CURRENT_BINARY_DIR}/example_t1_navier_stokes.out/run)
    list(APPEND paraview_fixtures example_t1_navier_stokes_output)
  endif()
  add_test(NAME test_io_paraview
           COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/io/check_xdmf_paraview.py
                   --spec ${PROJECT_SOURCE_DIR}/docs/file-formats.md --work ${CMAKE_CURRENT_BINARY_DIR}/test_io_paraview
                   --pvbatch ${pvbatch} ${paraview_args} --outputs ${paraview_outputs})
  set_tests_properties(test_io_paraview PROPERTIES LABELS paraview ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       TIMEOUT 600 FIXTURES_REQUIRED "${paraview_fixtures}")
endif()
