# Installs the built library into WORK_DIR/prefix, builds tests/consumer against it and runs it on
# MODELS, a list of (model file, test set file) pairs written by the example drivers.
file(REMOVE_RECURSE ${WORK_DIR})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
run(${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${WORK_DIR}/prefix --config ${CONFIG})
# An installed driver runs from the prefix with no help from the environment (its RPATH finds the
# installed library): a tiny Darcy data set.
if(INSTALLED_DRIVER)
  run(${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH ${WORK_DIR}/prefix/bin/${INSTALLED_DRIVER}
      -gen_problem darcy -gen_samples 2 -darcy_n 17 -gen_out ${WORK_DIR}/installed_driver.h5 -gen_overwrite)
  if(NOT EXISTS ${WORK_DIR}/installed_driver.h5)
    message(FATAL_ERROR "the installed ${INSTALLED_DRIVER} wrote no ${WORK_DIR}/installed_driver.h5")
  endif()
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
string(REPLACE "," ";" model_args "${MODELS}")
execute_process(COMMAND ${WORK_DIR}/build/consumer ${model_args} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer failed (${rc})")
endif()

# The README's host example (tests/consumer/host_example: 5 lines of CMake, 36 of C++): a Darcy
# operator's prediction as the initial guess of the host's own KSP, on 1 and 2 ranks.
if(HOST_MODEL)
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer/host_example -B ${WORK_DIR}/host_build
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/host_build)
  foreach(ranks 1 2)
    execute_process(COMMAND ${MPIEXEC} -n ${ranks} --oversubscribe ${WORK_DIR}/host_build/my_solver ${HOST_MODEL}
                    WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    message(STATUS "host example on ${ranks} rank(s): ${out}${err}")
    if(NOT rc EQUAL 0 OR NOT out MATCHES "iterations: [0-9]+ from zero, [0-9]+ from the prediction")
      message(FATAL_ERROR "the host example failed on ${ranks} rank(s) (${rc})")
    endif()
  endforeach()
endif()
