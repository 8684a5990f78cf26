# cmake -DEXE=... -DARGS='a|b|c' -DEXPECTED_EXIT=N -DEXPECTED_OUTPUT=regex -P expect-exit.cmake
# Runs EXE with the '|'-separated ARGS; fails unless it exits with
# EXPECTED_EXIT and its stdout + stderr match EXPECTED_OUTPUT.
string(REPLACE "|" ";" ARGS "${ARGS}")
execute_process(COMMAND ${EXE} ${ARGS}
  RESULT_VARIABLE exit_code
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(NOT exit_code STREQUAL EXPECTED_EXIT)
  message(FATAL_ERROR "expected exit status ${EXPECTED_EXIT}, got ${exit_code}; output:\n${output}")
endif()
if(NOT output MATCHES "${EXPECTED_OUTPUT}")
  message(FATAL_ERROR "output does not match '${EXPECTED_OUTPUT}':\n${output}")
endif()
