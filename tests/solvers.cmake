# solvers/ and pde/linear_systems: SOR/SSOR-PCG, bandit tuners, the sorbandit PC, system files.
neurops_add_test(NAME test_solvers
                 SOURCES solvers/fixture.cpp solvers/test_linear_systems.cpp solvers/test_sor.cpp
                         solvers/test_bandits.cpp solvers/test_bandit_state.cpp solvers/test_petsc_types.cpp
                         solvers/test_sorbandit_pc.cpp solvers/test_system_files.cpp
                         solvers/test_configbandit_pc.cpp
                 LABELS unit)
neurops_add_test(NAME test_solvers_mpi SOURCES solvers/fixture.cpp solvers/test_parallel.cpp
                                                solvers/test_configbandit_mpi.cpp LABELS unit mpi
                 MPI_RANKS 2)

# An unmodified PETSc tutorial (Debian package libpetsc3.18-dev-examples) picks the sorbandit PC
# from the command line through -dll_append libneurops.so. ex9 solves two systems -t times in
# sequence, so the learner sees a stream of solves.
if(NEUROPS_PETSC_KSP_TUTORIALS)
  add_executable(petsc_ksp_tutorial_ex9 ${NEUROPS_PETSC_KSP_TUTORIALS}/ex9.c)
  target_link_libraries(petsc_ksp_tutorial_ex9 PRIVATE neurops_deps::petsc MPI::MPI_C)  # not linked to neurops
  set(sorbandit_env "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
  add_test(NAME test_sorbandit_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 12 -m 12
                   -ksp_type cg -pc_type sorbandit -pc_sorbandit_learner tsallis -pc_sorbandit_seed 3
                   -pc_sorbandit_view -ksp_converged_reason
                   -s2_pc_type sorbandit -s2_pc_sorbandit_learner chebcb -s2_pc_sorbandit_sweep forward
                   -s2_pc_sorbandit_context diagonal -s2_pc_sorbandit_context_range 6,12 -s2_pc_sorbandit_view
                   -s2_ksp_converged_reason)
  set_tests_properties(test_sorbandit_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "sorbandit: tsallis over 12 solves.*sorbandit: chebcb over 12 solves"
    FAIL_REGULAR_EXPRESSION "DIVERGED|did not converge|PETSC ERROR")
  # The learner's report once, with -ksp_view and -pc_sorbandit_view together (the view after the
  # last solve is the report; destroy does not repeat it).
  add_test(NAME test_sorbandit_report_once_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 1 -m 8 -ksp_type cg
                   -pc_type sorbandit -pc_sorbandit_view -ksp_view)
  set_tests_properties(test_sorbandit_report_once_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "sorbandit: tsallis over 1 solves"
    FAIL_REGULAR_EXPRESSION "tsallis over 1 solves.*tsallis over 1 solves|PETSC ERROR")
  # -log_view counts the sweeps' flops: the PC's event (PCApply) is not 0 flops.
  add_test(NAME test_sorbandit_flops_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 2 -m 8 -ksp_type cg
                   -pc_type sorbandit -log_view)
  set_tests_properties(test_sorbandit_flops_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "PCApply +[0-9]+ +[0-9.]+ +[0-9.e+-]+ +[0-9.]+ +[1-9][0-9.]*e[+-][0-9]+"
    FAIL_REGULAR_EXPRESSION "PETSC ERROR")
  add_test(NAME test_sorbandit_help_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 1 -pc_type sorbandit -help)
  set_tests_properties(test_sorbandit_help_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "-pc_sorbandit_learner.*-pc_sorbandit_arms.*-pc_sorbandit_omega_min.*-pc_sorbandit_context.*-pc_sorbandit_seed.*-pc_sorbandit_view.*-pc_sorbandit_state")
  # The configbandit PC in the same unmodified tutorial: both of ex9's KSPs choose among option sets
  # solve after solve; its report (pulls per option set) is printed once at the end.
  add_test(NAME test_configbandit_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 10 -m 12
                   -ksp_type cg -pc_type configbandit -pc_configbandit_configs "icc;jacobi;sor -pc_sor_omega 1.5"
                   -pc_configbandit_seed 2 -pc_configbandit_view -ksp_converged_reason
                   -s2_pc_type configbandit -s2_pc_configbandit_configs "ilu;jacobi" -s2_pc_configbandit_cost iterations
                   -s2_pc_configbandit_view)
  set_tests_properties(test_configbandit_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "configbandit: 10 solves in this run.*sor -pc_sor_omega 1.5.*configbandit: 10 solves in this run.*ilu"
    FAIL_REGULAR_EXPRESSION "DIVERGED|did not converge|PETSC ERROR")
  # A misspelt option in a set stops the tutorial before its first solve, naming the set and the option.
  add_test(NAME test_configbandit_bad_set_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 1 -m 8 -ksp_type cg
                   -pc_type configbandit -pc_configbandit_configs "icc;sor -pc_sor_omgea 1.5")
  set_tests_properties(test_configbandit_bad_set_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "option set 1 'sor -pc_sor_omgea 1.5': option -pc_sor_omgea is not read")
  add_test(NAME test_configbandit_help_in_petsc_ex9
           COMMAND petsc_ksp_tutorial_ex9 -dll_append $<TARGET_FILE:neurops> -t 1 -pc_type configbandit
                   -pc_configbandit_configs jacobi -help)
  set_tests_properties(test_configbandit_help_in_petsc_ex9 PROPERTIES LABELS unit ENVIRONMENT "${sorbandit_env}"
    PASS_REGULAR_EXPRESSION "-pc_configbandit_configs.*-pc_configbandit_learner.*-pc_configbandit_cost.*-pc_configbandit_seed.*-pc_configbandit_view.*-pc_configbandit_state")
else()
  message(STATUS "PETSc KSP tutorials not found (Debian package libpetsc3.18-dev-examples): sorbandit dll test skipped")
endif()

# A petsc4py script (Debian's python3-petsc4py) tunes omega in two processes through
# -pc_sorbandit_state and reads omega and the summary through the C interface (sorbandit_c.h).
find_program(NEUROPS_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NEUROPS_SYSTEM_PYTHON)
  execute_process(COMMAND ${NEUROPS_SYSTEM_PYTHON} -c "import petsc4py" RESULT_VARIABLE have_petsc4py
                  OUTPUT_QUIET ERROR_QUIET)
endif()
if(NEUROPS_SYSTEM_PYTHON AND have_petsc4py EQUAL 0)
  add_test(NAME test_sorbandit_state_petsc4py
           COMMAND ${NEUROPS_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/solvers/sorbandit_state_petsc4py.py
                   --lib $<TARGET_FILE:neurops> --work ${CMAKE_CURRENT_BINARY_DIR}/sorbandit_state_petsc4py)
  set_tests_properties(test_sorbandit_state_petsc4py PROPERTIES LABELS unit ENVIRONMENT "${NEUROPS_HOST_TEST_ENVIRONMENT}"
                       PASS_REGULAR_EXPRESSION "chose as one process did")
else()
  message(STATUS "petsc4py not found (Debian package python3-petsc4py): the sorbandit petsc4py test is skipped")
endif()

if(NEUROPS_BUILD_EXAMPLES)
  # Example drivers on small problems.
  neurops_add_example_test(NAME example_learning_to_relax PROGRAM learning_to_relax
                           ARGS -ltr_instances 60 -ltr_trials 1 -ltr_heat_nx 10 -ltr_heat_steps 40)
  neurops_add_example_test(NAME example_tune_sor_generate PROGRAM neurops_tune_sor
                           ARGS -tune_family ltr_high -tune_count 12 -tune_learner chebcb -tune_write_systems systems
                                -tune_out generated)
  set_tests_properties(example_tune_sor_generate PROPERTIES FIXTURES_SETUP tune_sor_systems)
  neurops_add_example_test(NAME example_tune_sor_files PROGRAM neurops_tune_sor
                           ARGS -tune_files ../example_tune_sor_generate.out/systems/system_0000.h5,../example_tune_sor_generate.out/systems/system_0001.h5,../example_tune_sor_generate.out/systems/system_0002.h5
                                -tune_learner binned -tune_out from_files)
  set_tests_properties(example_tune_sor_files PROPERTIES FIXTURES_REQUIRED tune_sor_systems
                       PASS_REGULAR_EXPRESSION "binned on files \\(sor\\): 3 systems")
  neurops_add_example_test(NAME example_tune_sor_heat PROGRAM neurops_tune_sor
                           ARGS -tune_family heat -tune_heat_nx 12 -tune_count 30 -tune_learner tsallis -tune_out heat)
  # Shell-script contract: a missing file or a bad option exits non-zero with one "error:" line.
  neurops_add_example_test(NAME example_tune_sor_missing_file PROGRAM neurops_tune_sor ARGS -tune_files no_such.h5)
  set_tests_properties(example_tune_sor_missing_file PROPERTIES WILL_FAIL TRUE)
  neurops_add_example_test(NAME example_tune_sor_missing_file_message PROGRAM neurops_tune_sor ARGS -tune_files no_such.h5)
  set_tests_properties(example_tune_sor_missing_file_message PROPERTIES
                       PASS_REGULAR_EXPRESSION "neurops_tune_sor: error: .*no_such.h5' does not exist")
  neurops_add_example_test(NAME example_tune_sor_bad_omega PROGRAM neurops_tune_sor ARGS -tune_omega_max 2.5)
  set_tests_properties(example_tune_sor_bad_omega PROPERTIES WILL_FAIL TRUE)
  # On two ranks: printed and written once, the results of one rank, a resumed learner continues.
  add_test(NAME example_tune_sor_mpi
           COMMAND ${CMAKE_COMMAND} "-DPROGRAM=$<TARGET_FILE:neurops_tune_sor>" "-DMPIEXEC=${MPIEXEC_EXECUTABLE}"
                   "-DNP_FLAG=${MPIEXEC_NUMPROC_FLAG}" -DWORK=${CMAKE_CURRENT_BINARY_DIR}/example_tune_sor_mpi.out
                   -P ${CMAKE_CURRENT_SOURCE_DIR}/solvers/tune_sor_mpi.cmake)
  set_tests_properties(example_tune_sor_mpi PROPERTIES LABELS "example;mpi" ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}"
                       PASS_REGULAR_EXPRESSION "1 and 2 ranks agree")
  # A state file is never overwritten by a new learner: without -tune_resume an existing one is refused.
  neurops_add_example_test(NAME example_tune_sor_state_exists PROGRAM neurops_tune_sor
                           ARGS -tune_family ltr_low -tune_count 2 -tune_state ../example_tune_sor_generate.out/generated.h5)
  set_tests_properties(example_tune_sor_state_exists PROPERTIES FIXTURES_REQUIRED tune_sor_systems
                       PASS_REGULAR_EXPRESSION "generated.h5' exists; add -tune_resume")
endif()

if(NEUROPS_BUILD_EXAMPLES)
  # The configuration bandit against every fixed configuration, on short heat and Darcy sequences: the
  # table of each, and the bandit played every configuration (no share of 0.0%).
  neurops_add_example_test(NAME example_tune_solver_configs PROGRAM tune_solver_configs
                           ARGS -tcfg_solves 50 -tcfg_heat_nx 24 -tcfg_darcy_n 33 -tcfg_out configs)
  set_tests_properties(example_tune_solver_configs PROPERTIES
    PASS_REGULAR_EXPRESSION "heat [^\n]*50 solves[^\n]*\n  configuration +total \\[s\\] +mean its +bandit share\n  icc +[0-9.]+ +[0-9.]+ +[0-9.]+%\n  gamg +[0-9.]+ +[0-9.]+ +[0-9.]+%\n  sor -pc_sor_omega 1.7 +[0-9.]+ +[0-9.]+ +[0-9.]+%\n.*  configbandit \\(tsallis\\) +[0-9.]+ +[0-9.]+ *\n  best fixed in hindsight: [^\n]*\n  bandit / best fixed = [0-9.]+.*Darcy [^\n]*50 solves.*bandit / best fixed = [0-9.]+.*outputs: configs.csv"
    FAIL_REGULAR_EXPRESSION " 0\\.0%")
  # A misspelt option in a set stops the driver before any solve, naming the set and the option (one
  # set: a ';' would split the CMake argument list).
  neurops_add_example_test(NAME example_tune_solver_configs_bad_set PROGRAM tune_solver_configs
                           ARGS -tcfg_configs "sor -pc_sor_omgea 1.5" -tcfg_solves 5)
  set_tests_properties(example_tune_solver_configs_bad_set PROPERTIES
    PASS_REGULAR_EXPRESSION "tune_solver_configs: error: .*option set 0 'sor -pc_sor_omgea 1.5': option -pc_sor_omgea is not read"
    FAIL_REGULAR_EXPRESSION "solves, CG")
endif()

# Benchmark smoke run (the full run: build/bench/sor_heat).
if(TARGET bench_sor_heat)  # not built with NEUROPS_BUILD_BENCH=OFF (the sanitizer build)
  add_test(NAME bench_sor_heat_smoke COMMAND bench_sor_heat -bench_smoke)
  set_tests_properties(bench_sor_heat_smoke PROPERTIES LABELS bench ENVIRONMENT "${NEUROPS_TEST_ENVIRONMENT}")
endif()

if(NEUROPS_BUILD_EXAMPLES)
  # learning_to_relax: each experiment's notes (best fixed omega in hindsight) stand under its own heading,
  # not under the previous table.
  neurops_add_example_test(NAME example_learning_to_relax_headings PROGRAM learning_to_relax
                           ARGS -ltr_instances 20 -ltr_trials 1 -ltr_heat_nx 8 -ltr_heat_steps 10 -ltr_heat_oracle)
  set_tests_properties(example_learning_to_relax_headings PROPERTIES PASS_REGULAR_EXPRESSION
    "high variance: [^\n]*\n  best fixed omega in hindsight = [^\n]*\n  method.*low variance: [^\n]*\n  best fixed omega in hindsight = [^\n]*\n  method.*10 steps\n  best fixed omega in hindsight = [^\n]*\n  method")
endif()
