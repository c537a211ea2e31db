# neurops_tune_sor on one and on two ranks: on two, rank 0 alone prints the summary and writes the
# outputs and the learner state, and the results (every column but the solve times) are those of one
# rank, for a first run and for a run resumed from its state file; the two runs together are one run.
#   cmake -DPROGRAM=neurops_tune_sor -DMPIEXEC=mpiexec -DNP_FLAG=-n -DWORK=dir -P tune_sor_mpi.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(common -tune_family ltr_low -tune_learner binned -tune_arms 8)

function(run_driver ranks name)
  execute_process(COMMAND ${MPIEXEC} ${NP_FLAG} ${ranks} --oversubscribe ${PROGRAM} ${common} -tune_count 16 -tune_out ${name}
                          -tune_state state_np${ranks}.h5 ${ARGN}
                  WORKING_DIRECTORY ${WORK} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${name} on ${ranks} ranks: exit code ${rc}\n${out}\n${err}")
  endif()
  string(REGEX MATCHALL "binned on ltr_low" summaries "${out}")
  string(REGEX MATCHALL "learner state: state_np" states "${out}")
  list(LENGTH summaries n_summaries)
  list(LENGTH states n_states)
  if(NOT n_summaries EQUAL 1 OR NOT n_states EQUAL 1)
    message(FATAL_ERROR "${name} on ${ranks} ranks printed the summary ${n_summaries} and the state line ${n_states} "
                        "times, expected once each:\n${out}")
  endif()
  message("${name} (${ranks} ranks):\n${out}")
  set(output "${out}" PARENT_SCOPE)
endfunction()

# Every column but the first (instance, counted per run) and the last (solve_seconds), one line per system.
function(results file var)
  file(STRINGS ${WORK}/${file} lines)
  list(REMOVE_AT lines 0)  # the header
  set(out "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^[0-9]+,(.*),[^,]*$" "\\1" line "${line}")
    string(APPEND out "${line}\n")
  endforeach()
  if(NOT out MATCHES "^[-0-9.e]+,[0-9.e]+,[0-9]+,")
    message(FATAL_ERROR "${file}: no results read:\n${out}")
  endif()
  set(${var} "${out}" PARENT_SCOPE)
endfunction()

foreach(ranks 1 2)
  run_driver(${ranks} first_np${ranks})
  run_driver(${ranks} resumed_np${ranks} -tune_resume)
  if(NOT output MATCHES "learner state: state_np${ranks}.h5, 32 solves \\(16 before this run\\)")
    message(FATAL_ERROR "the resumed run on ${ranks} ranks did not continue from 16 solves:\n${output}")
  endif()
endforeach()
foreach(run first resumed)
  results(${run}_np1.csv one)
  results(${run}_np2.csv two)
  if(NOT one STREQUAL two)
    message(FATAL_ERROR "${run}: 2 ranks differ from 1 rank:\n${one}\n--- 2 ranks:\n${two}")
  endif()
endforeach()
# The first and the resumed run together are one run of 32 systems.
execute_process(COMMAND ${PROGRAM} ${common} -tune_count 32 -tune_out whole WORKING_DIRECTORY ${WORK}
                OUTPUT_QUIET RESULT_VARIABLE rc)
results(first_np1.csv first)
results(resumed_np1.csv resumed)
results(whole.csv whole)
if(NOT rc EQUAL 0 OR NOT "${first}${resumed}" STREQUAL whole)
  message(FATAL_ERROR "16 + 16 resumed systems differ from one run of 32 (exit ${rc}):\n${first}${resumed}\n--- one run:\n${whole}")
endif()
message("tune_sor: 1 and 2 ranks agree, first and resumed runs; rank 0 alone printed; 16 + 16 = 32")
