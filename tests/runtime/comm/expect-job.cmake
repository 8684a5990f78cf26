# cmake -DCOMMAND='mpirun|-np|4|prog|args' -DEXPECTED_EXIT=N|nonzero
#       -DEXPECTED_OUTPUT=regex -DMAX_SECONDS=S -P expect-job.cmake
# Runs the '|'-separated COMMAND (an mpirun job); fails unless it exits
# with EXPECTED_EXIT (any non-zero status for "nonzero"), its stdout +
# stderr match EXPECTED_OUTPUT, and it took at most MAX_SECONDS.
string(REPLACE "|" ";" COMMAND "${COMMAND}")
string(TIMESTAMP start "%s" UTC)
math(EXPR hard_limit "${MAX_SECONDS} * 3")
execute_process(COMMAND ${COMMAND}
  RESULT_VARIABLE exit_code
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output
  TIMEOUT ${hard_limit})
string(TIMESTAMP end "%s" UTC)
math(EXPR seconds "${end} - ${start}")
message("exit status ${exit_code} after ${seconds} s; output:\n${output}")
if(EXPECTED_EXIT STREQUAL "nonzero")
  if(exit_code STREQUAL "0" OR NOT exit_code MATCHES "^[0-9]+$")
    message(FATAL_ERROR "expected a non-zero exit status, got '${exit_code}'")
  endif()
elseif(NOT exit_code STREQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "expected exit status ${EXPECTED_EXIT}, got ${exit_code}")
endif()
if(NOT output MATCHES "${EXPECTED_OUTPUT}")
  message(FATAL_ERROR "output does not match '${EXPECTED_OUTPUT}'")
endif()
if(seconds GREATER MAX_SECONDS)
  message(FATAL_ERROR "took ${seconds} s, more than ${MAX_SECONDS} s")
endif()
