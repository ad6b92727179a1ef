# The man page, made from `peakbench --help` and `--version` by help2man (Debian's help2man),
# plus cmake/peakbench.h2m (commands, examples, files). Skipped with a message without help2man.
find_program(PEAKBENCH_HELP2MAN help2man)
if(PEAKBENCH_HELP2MAN)
  set(PEAKBENCH_MAN_PAGE ${CMAKE_BINARY_DIR}/peakbench.1)
  add_custom_command(
    OUTPUT ${PEAKBENCH_MAN_PAGE}
    COMMAND ${PEAKBENCH_HELP2MAN} --no-info --section=1
            --name "peak-memory benchmarks and regression gates for HTTP-cache clients"
            --include ${CMAKE_SOURCE_DIR}/cmake/peakbench.h2m --output ${PEAKBENCH_MAN_PAGE}
            $<TARGET_FILE:peakbench>
    DEPENDS peakbench ${CMAKE_SOURCE_DIR}/cmake/peakbench.h2m
    COMMENT "help2man: peakbench.1"
    VERBATIM)
  add_custom_target(peakbench_man ALL DEPENDS ${PEAKBENCH_MAN_PAGE})
else()
  message(STATUS "help2man not found: no man page (scripts/bootstrap installs it)")
endif()
