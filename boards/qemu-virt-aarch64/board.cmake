# SPDX-License-Identifier: Apache-2.0
# qemu-virt-aarch64: QEMU `-M virt -cpu cortex-a57` (or cortex-a53), GICv2,
# booted as a raw arm64 Linux Image, which is how QEMU's -kernel passes the
# device tree in x0 (an ELF gets none). Exits through semihosting, so QEMU
# needs -semihosting.

include(${VIO_SOURCE_DIR}/boards/common/common.cmake)

set(VIO_BOARD_DIR ${VIO_SOURCE_DIR}/boards/qemu-virt-aarch64)
set(VIO_BOARD_SOURCES
  ${VIO_BOARD_DIR}/start.S
  ${VIO_BOARD_DIR}/vectors.S
  ${VIO_BOARD_DIR}/mmu.c
  ${VIO_BOARD_DIR}/board.c
  ${VIO_BOARD_DIR}/gicv2.c
  ${VIO_BOARD_DIR}/gicv2m.c
  ${VIO_BOARD_DIR}/pl011.c
  ${VIO_BOARD_DIR}/timer.c
  ${VIO_BOARD_DIR}/trap.c
  ${VIO_BOARD_DIR}/semihost.c)

# What QEMU boots: NAME.bin, next to NAME.elf (which is for gdb).
set(VIO_BOOT_SUFFIX ".bin")

# vio_firmware(NAME LIBRARY lib SOURCES files...)
# Builds NAME.elf (symbols, for gdb) and NAME.bin (the bootable Image) in the
# current binary directory.
function(vio_firmware name)
  cmake_parse_arguments(A "" "LIBRARY" "SOURCES" ${ARGN})
  vio_board_firmware(${name} LIBRARY ${A_LIBRARY} SOURCES ${A_SOURCES}
    BOARD_SOURCES ${VIO_BOARD_SOURCES}
    LINKER_SCRIPT ${VIO_BOARD_DIR}/link.ld)
  add_custom_command(TARGET ${name} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${name}>
            ${CMAKE_CURRENT_BINARY_DIR}/${name}.bin
    BYPRODUCTS ${CMAKE_CURRENT_BINARY_DIR}/${name}.bin
    COMMENT "Image ${name}.bin")
endfunction()
