# SPDX-License-Identifier: Apache-2.0
# The qemu-virt-riscv64 board: QEMU boots the ELF (-kernel NAME.elf) through
# OpenSBI.

include(${VIO_SOURCE_DIR}/boards/common/common.cmake)

set(VIO_BOOT_SUFFIX ".elf")

set(VIO_BOARD_DIR ${VIO_SOURCE_DIR}/boards/qemu-virt-riscv64)
set(VIO_BOARD_SOURCES
  ${VIO_BOARD_DIR}/start.S
  ${VIO_BOARD_DIR}/board.c
  ${VIO_BOARD_DIR}/sbi.c
  ${VIO_BOARD_DIR}/uart_ns16550.c
  ${VIO_BOARD_DIR}/plic.c
  ${VIO_BOARD_DIR}/imsic.c
  ${VIO_BOARD_DIR}/aplic.c
  ${VIO_BOARD_DIR}/timer.c
  ${VIO_BOARD_DIR}/trap.c)

# vio_firmware(NAME LIBRARY lib SOURCES files...): NAME.elf in the current
# binary directory.
function(vio_firmware name)
  cmake_parse_arguments(A "" "LIBRARY" "SOURCES" ${ARGN})
  vio_board_firmware(${name} LIBRARY ${A_LIBRARY} SOURCES ${A_SOURCES}
    BOARD_SOURCES ${VIO_BOARD_SOURCES}
    LINKER_SCRIPT ${VIO_BOARD_DIR}/link.ld)
endfunction()
