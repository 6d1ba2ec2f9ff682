# SPDX-License-Identifier: Apache-2.0
# libFuzzer targets (tests/fuzz, docs/fuzzing.md), preset host-fuzz: clang
# with -fsanitize=fuzzer,address,undefined. tests/host.cmake adds
# -fsanitize=fuzzer-no-link to every object, so the library's branches feed
# the fuzzer; each target links libFuzzer's main. Included by
# tests/host.cmake when VIO_FUZZ is on, instead of the host tests.

set(VIO_FUZZ_RUNS 20000 CACHE STRING "Inputs each fuzz target runs under ctest (at most)")
set(VIO_FUZZ_SECONDS 5 CACHE STRING "Seconds each fuzz target runs under ctest (at most)")
set(fz ${VIO_SOURCE_DIR}/tests/fuzz)
# The simulator's own branches are no coverage worth steering for and cost
# half the time of an input in comparison hooks: only the library (and the
# targets) feed the fuzzer.
target_compile_options(vio_sim PRIVATE -fno-sanitize=fuzzer-no-link)
add_library(vio_fuzz_common STATIC ${fz}/fuzz_common.c)
target_link_libraries(vio_fuzz_common PUBLIC vio_host)

foreach(name rng blk net console input gpu vq transport pci)
  add_executable(fuzz_${name} ${fz}/fuzz_${name}.c)
  target_link_libraries(fuzz_${name} PRIVATE vio_fuzz_common)
  target_include_directories(fuzz_${name} PRIVATE ${fz})
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  if(name STREQUAL "pci")
    # The boards' enumeration assigns the BARs the transport then reads.
    target_sources(fuzz_pci PRIVATE ${VIO_SOURCE_DIR}/boards/common/pci.c)
    target_include_directories(fuzz_pci PRIVATE ${VIO_SOURCE_DIR}/boards/common)
  endif()
  # A fixed number of inputs (or seconds, whichever ends first: the
  # slowest target does a few hundred a second) from a fixed seed, from the
  # committed seeds. libFuzzer adds what it finds to the first corpus
  # directory: a scratch one in the build tree, emptied first, so the
  # source tree is never written.
  set(scratch ${CMAKE_CURRENT_BINARY_DIR}/fuzz-scratch/${name})
  add_test(NAME fuzz_${name}
           COMMAND sh -c "rm -rf \"$1\" && mkdir -p \"$1\" && exec \"$2\" -runs=$3 -max_total_time=$5 -seed=1 -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \"$1\" \"$4\""
                   sh ${scratch} $<TARGET_FILE:fuzz_${name}> ${VIO_FUZZ_RUNS} ${fz}/corpus/${name}
                   ${VIO_FUZZ_SECONDS})
  set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT 300 ENVIRONMENT
    "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endforeach()
