# SPDX-License-Identifier: Apache-2.0
# The library at -Os with the board's defaults, for the size table of the
# README (scripts/size_table.py), and a test that keeps the script working.
#
#   size-<arch>   the table of this architecture from vio_size's objects;
#                 fails when a part has no code, or when the READMEs'
#                 tables list other parts

vio_config(size DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig)
# After the build type's -O2, so -Os wins.
target_compile_options(vio_size PRIVATE -Os)

# binutils' size next to the compiler: riscv64-unknown-elf-gcc -> riscv64-unknown-elf-size.
string(REGEX REPLACE "gcc$" "size" vio_size_name "${CMAKE_C_COMPILER}")
find_program(VIO_SIZE_TOOL NAMES ${vio_size_name} size REQUIRED)

add_test(NAME size-${VIO_TARGET}
  COMMAND ${VIO_PYTHON} ${VIO_SOURCE_DIR}/scripts/size_table.py
          --lib ${VIO_TARGET}=$<TARGET_FILE:vio_size> --size-tool ${VIO_TARGET}=${VIO_SIZE_TOOL}
          --check ${VIO_SOURCE_DIR}/README.md ${VIO_SOURCE_DIR}/README_zh.md)
set_tests_properties(size-${VIO_TARGET} PROPERTIES TIMEOUT 60 LABELS docs)
