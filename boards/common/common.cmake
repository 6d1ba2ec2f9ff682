# SPDX-License-Identifier: Apache-2.0
# What the QEMU boards share: the device-tree reader, the console glue for
# picolibc and the bare-metal port. Each board.cmake includes this file and
# defines vio_firmware() with vio_board_firmware() below.

set(VIO_BOARD_COMMON_SOURCES
  ${VIO_SOURCE_DIR}/boards/common/fdt.c
  ${VIO_SOURCE_DIR}/boards/common/dt_board.c
  ${VIO_SOURCE_DIR}/boards/common/dt_pci.c
  ${VIO_SOURCE_DIR}/boards/common/pci.c
  ${VIO_SOURCE_DIR}/boards/common/board_pci.c
  ${VIO_SOURCE_DIR}/boards/common/pci_hotplug.c
  ${VIO_SOURCE_DIR}/boards/common/stdio.c
  ${VIO_SOURCE_DIR}/boards/common/fault.c
  ${VIO_SOURCE_DIR}/boards/common/memcpy.c
  ${VIO_SOURCE_DIR}/boards/common/memset.c
  ${VIO_SOURCE_DIR}/boards/common/irq_share.c
  ${VIO_SOURCE_DIR}/ports/baremetal/port.c)
# gcc would otherwise turn their loops back into calls to memcpy and memset.
set_source_files_properties(${VIO_SOURCE_DIR}/boards/common/memcpy.c
  ${VIO_SOURCE_DIR}/boards/common/memset.c PROPERTIES
  COMPILE_OPTIONS "-fno-tree-loop-distribute-patterns")

set(VIO_BOARD_COMMON_INCLUDES
  ${VIO_SOURCE_DIR}/boards/common
  ${VIO_SOURCE_DIR}/ports/baremetal
  ${VIO_SOURCE_DIR}/include)

# vio_board_firmware(NAME LIBRARY lib SOURCES files... BOARD_SOURCES files...
#                    LINKER_SCRIPT file)
# Builds ${CMAKE_CURRENT_BINARY_DIR}/NAME.elf from SOURCES, the board's
# sources, the shared ones above, LIBRARY and picolibc. The board and shared
# sources are compiled once per build tree, into the object library
# vio_board (the start-up code must be linked as objects: nothing refers to
# the entry point). SOURCES see the include directories of LIBRARY and of
# the board.
function(vio_board_firmware name)
  cmake_parse_arguments(A "" "LIBRARY;LINKER_SCRIPT" "SOURCES;BOARD_SOURCES" ${ARGN})
  if(NOT A_LIBRARY OR NOT A_LINKER_SCRIPT)
    message(FATAL_ERROR "vio_board_firmware(${name}): LIBRARY and LINKER_SCRIPT are required")
  endif()
  if(NOT TARGET vio_board)
    add_library(vio_board OBJECT ${A_BOARD_SOURCES} ${VIO_BOARD_COMMON_SOURCES})
    target_include_directories(vio_board PUBLIC ${VIO_BOARD_COMMON_INCLUDES})
  endif()
  add_executable(${name} ${A_SOURCES} $<TARGET_OBJECTS:vio_board>)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    LINK_DEPENDS ${A_LINKER_SCRIPT})
  target_include_directories(${name} PRIVATE ${VIO_BOARD_COMMON_INCLUDES})
  target_link_libraries(${name} PRIVATE ${A_LIBRARY})
  target_link_options(${name} PRIVATE -T ${A_LINKER_SCRIPT}
    -Wl,-Map=${CMAKE_CURRENT_BINARY_DIR}/${name}.map)
endfunction()
