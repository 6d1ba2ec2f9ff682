# SPDX-License-Identifier: Apache-2.0
# Tests of vio as an installed package (cmake/install.cmake, examples/):
#
#   pkg-<arch>-install            cmake --install into build/<preset>/pkg/prefix
#   pkg-<arch>-example-blk-rng    examples/blk-rng built against it, booted
#   pkg-<arch>-example-lwip       examples/lwip built against it, booted
#   pkg-<arch>-pkgconfig          a program linked with pkg-config's flags, booted
#   pkg-<arch>-drivers-off        (riscv64) the library with each driver left
#                                 out defines none of that driver's symbols
#   qemu-riscv64-legacy-no<drv>   and the test firmware built with it runs
#
# The examples configure against the prefix alone, as a project outside
# the tree would.

set(pkg_runner ${VIO_SOURCE_DIR}/tests/pkg/test_pkg.py)
set(pkg_dir ${CMAKE_BINARY_DIR}/pkg)
set(pkg_prefix ${pkg_dir}/prefix)

add_test(NAME pkg-${VIO_TARGET}-install
  COMMAND ${VIO_PYTHON} ${pkg_runner} install --build-dir ${CMAKE_BINARY_DIR} --prefix ${pkg_prefix})
set_tests_properties(pkg-${VIO_TARGET}-install PROPERTIES
  FIXTURES_SETUP vio_pkg_${VIO_TARGET} TIMEOUT 60 LABELS pkg)

# pkg_test(NAME [runner arguments...]): a test on the installed prefix.
function(pkg_test name)
  set(test pkg-${VIO_TARGET}-${name})
  add_test(NAME ${test} COMMAND ${VIO_PYTHON} ${pkg_runner} ${ARGN})
  set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED vio_pkg_${VIO_TARGET}
    TIMEOUT 180 LABELS "pkg;qemu")
endfunction()

pkg_test(example-blk-rng example --arch ${VIO_TARGET} --case blk-rng --prefix ${pkg_prefix}
         --source ${VIO_SOURCE_DIR}/examples/blk-rng --build-dir ${pkg_dir}/blk-rng)
if(VIO_PKG_LWIP)
  pkg_test(example-lwip example --arch ${VIO_TARGET} --case lwip --prefix ${pkg_prefix}
           --source ${VIO_SOURCE_DIR}/examples/lwip --build-dir ${pkg_dir}/lwip)
endif()
pkg_test(pkgconfig pkgconfig --arch ${VIO_TARGET} --prefix ${pkg_prefix}
         --build-dir ${pkg_dir}/pkgconfig)

# One library per driver left out, on one board only (each is a whole
# build of the library); the symbols do not depend on the board. The rest
# still builds: each is linked into the test firmware, as in the build.
if(VIO_TARGET STREQUAL "riscv64")
  set(off_args)
  set(runner ${VIO_SOURCE_DIR}/tests/qemu/run_test.py) # what qemu_test() runs
  foreach(drv RNG BLK NET CONSOLE INPUT GPU)
    string(TOLOWER ${drv} d)
    vio_config(no${d} DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig
                      SET CONFIG_VIO_DRIVER_${drv}=n)
    list(APPEND off_args ${d}=$<TARGET_FILE:vio_no${d}>)
    vio_app(vio-test-no${d} LIBRARY vio_no${d} SOURCES ${VIO_SOURCE_DIR}/tests/qemu/vio_test.c
                                                      ${VIO_SOURCE_DIR}/tests/qemu/report.c)
    # qemu-riscv64-legacy-no<driver>: one device of every kind; the one whose
    # driver is out has none, the others are ready (tests/qemu/run_test.py).
    qemu_test(no${d} legacy vio-test-no${d} no${d} rng,blk,net,console,keyboard,gpu)
  endforeach()
  add_test(NAME pkg-${VIO_TARGET}-drivers-off
    COMMAND ${VIO_PYTHON} ${pkg_runner} drivers-off --nm ${CMAKE_NM}
            --full $<TARGET_FILE:vio_main> ${off_args})
  set_tests_properties(pkg-${VIO_TARGET}-drivers-off PROPERTIES TIMEOUT 60 LABELS pkg)
endif()
