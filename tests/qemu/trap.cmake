# SPDX-License-Identifier: Apache-2.0
# The board's trap report: a firmware that faults must make QEMU exit with
# status 3 and print the cause and the registers.
vio_firmware(trap-test LIBRARY vio_main SOURCES ${VIO_SOURCE_DIR}/tests/qemu/trap_test.c)
add_test(NAME qemu-${VIO_TARGET}-trap
  COMMAND ${VIO_PYTHON} ${VIO_SOURCE_DIR}/tests/qemu/trap_test.py --arch ${VIO_TARGET}
          --boot-suffix ${VIO_BOOT_SUFFIX} $<TARGET_FILE:trap-test>)
set_tests_properties(qemu-${VIO_TARGET}-trap PROPERTIES TIMEOUT 60 LABELS qemu)
