# `cmake --install` and `cpack -G DEB` (GNUInstallDirs). The installed binary finds its data in
# ../${CMAKE_INSTALL_DATADIR}/peakbench relative to itself (base/version.h.in: kDataDirFromBinDir),
# so any prefix works, and `peakbench run --suite default` resolves to the installed suite.

install(TARGETS peakbench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Hook for helper executables that must sit next to the binary (the minimal launcher): a target
# added to PEAKBENCH_INSTALL_HELPERS, or one of the names below, is installed beside `peakbench`.
foreach(helper IN LISTS PEAKBENCH_INSTALL_HELPERS ITEMS peakbench_launcher peakbench-launcher)
  if(TARGET ${helper})
    install(TARGETS ${helper} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

set(PEAKBENCH_INSTALL_DATA ${CMAKE_INSTALL_DATADIR}/peakbench)
file(GLOB peakbench_suites CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scenarios/*.json)
install(FILES ${peakbench_suites} DESTINATION ${PEAKBENCH_INSTALL_DATA}/scenarios)
install(FILES reports/gates.json reports/baseline.json DESTINATION ${PEAKBENCH_INSTALL_DATA}/reports)
file(GLOB peakbench_schemas CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/reports/schema/*.json)
install(FILES ${peakbench_schemas} DESTINATION ${PEAKBENCH_INSTALL_DATA}/reports/schema)
install(FILES cli/completion.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME peakbench)
install(FILES LICENSE CHANGELOG.md README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(PEAKBENCH_MAN_PAGE)
  install(FILES ${PEAKBENCH_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# cpack -G DEB (run from the build directory): a .deb of the above for /usr.
set(CPACK_PACKAGE_NAME peakbench)
set(CPACK_PACKAGE_VENDOR "the peakbench authors")
set(CPACK_PACKAGE_CONTACT "the peakbench authors <peakbench@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "peak-memory benchmarks and regression gates for HTTP-cache clients")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
# dpkg-shlibdeps reads the libraries the binary links (libcurl, libcpp-httplib, libfmt, ...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# jemalloc is preloaded by soname only for --allocator jemalloc; git reads the measured checkout.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libjemalloc2, git")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/peakbench/peakbench")
include(CPack)
