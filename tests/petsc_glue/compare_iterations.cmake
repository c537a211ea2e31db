# Runs an unmodified PETSc program twice, without and with extra options, and requires fewer Krylov
# iterations with them. Used as
#   cmake -DPROGRAM=... -DARGS="a;b" -DEXTRA="c;d" -DLAUNCH="mpiexec;-n;2" -P compare_iterations.cmake
# Both runs must converge (KSPConvergedReason printed by -ksp_converged_reason).
function(run_once label options out_var)
  execute_process(COMMAND ${LAUNCH} ${PROGRAM} ${ARGS} ${options} -ksp_converged_reason
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  message("${label}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${label}: exit code ${rc}")
  endif()
  if(NOT out MATCHES "CONVERGED_[A-Z_]+ iterations ([0-9]+)")
    message(FATAL_ERROR "${label}: no 'CONVERGED_... iterations N' line")
  endif()
  set(${out_var} ${CMAKE_MATCH_1} PARENT_SCOPE)
endfunction()

run_once("without" "" plain)
run_once("with ${EXTRA}" "${EXTRA}" guessed)
message("iterations: ${plain} without, ${guessed} with")
if(NOT guessed LESS plain)
  message(FATAL_ERROR "expected fewer iterations with ${EXTRA}: ${guessed} with, ${plain} without")
endif()
