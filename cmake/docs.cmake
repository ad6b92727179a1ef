# The man pages, made by help2man (Debian's help2man) from peakbench's own help: peakbench(1) from
# `peakbench --help` and `--version` plus cmake/peakbench.h2m (commands, examples, files), and one
# peakbench-COMMAND(1) per command from `peakbench COMMAND --help` (its options, its examples).
# Skipped with a message without help2man.
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
  set(PEAKBENCH_MAN_PAGES ${PEAKBENCH_MAN_PAGE})
  # help2man runs `PROGRAM OPTION` through the shell, so "run --help" asks the command.
  foreach(command run fetch serve wheel table compare gate merge plot report)
    set(page ${CMAKE_BINARY_DIR}/peakbench-${command}.1)
    # NAME is the command's one-line description, the first line of its help.
    add_custom_command(
      OUTPUT ${page}
      COMMAND sh -c "\"$1\" --no-info --section=1 --name \"$(\"$2\" ${command} --help | head -n 1)\" \
--help-option='${command} --help' --version-option=--version --output \"$3\" \"$2\""
              sh ${PEAKBENCH_HELP2MAN} $<TARGET_FILE:peakbench> ${page}
      DEPENDS peakbench
      COMMENT "help2man: peakbench-${command}.1"
      VERBATIM)
    list(APPEND PEAKBENCH_MAN_PAGES ${page})
  endforeach()
  add_custom_target(peakbench_man ALL DEPENDS ${PEAKBENCH_MAN_PAGES})
else()
  message(STATUS "help2man not found: no man page (scripts/bootstrap installs it)")
endif()
