# SPDX-License-Identifier: Apache-2.0
# Checks of the documentation, registered once (in the host-gcc preset's
# build: the gcc host build without fuzzing or ThreadSanitizer):
#
#   api-doxygen        the API reference from include/vio/*.h (docs/Doxyfile.in)
#                      into build/<preset>/api/html; fails on any Doxygen warning,
#                      so every public function, type and constant is documented
#   readme-structure   README_zh.md has README.md's headings, code blocks,
#                      tables and images, in the same order

if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU" OR VIO_FUZZ OR VIO_SANITIZE_THREAD)
  return()
endif()

find_program(VIO_DOXYGEN NAMES doxygen REQUIRED)
set(VIO_DOXYGEN_OUT ${CMAKE_BINARY_DIR}/api)
configure_file(${VIO_SOURCE_DIR}/docs/Doxyfile.in ${VIO_DOXYGEN_OUT}/Doxyfile @ONLY)

add_test(NAME api-doxygen
  COMMAND ${VIO_PYTHON} ${VIO_SOURCE_DIR}/scripts/run_doxygen.py ${VIO_DOXYGEN}
          ${VIO_DOXYGEN_OUT}/Doxyfile ${VIO_DOXYGEN_OUT}/warnings.log)
add_test(NAME readme-structure
  COMMAND ${VIO_PYTHON} ${VIO_SOURCE_DIR}/scripts/check_readme_structure.py
          ${VIO_SOURCE_DIR}/README.md ${VIO_SOURCE_DIR}/README_zh.md)
set_tests_properties(api-doxygen readme-structure PROPERTIES TIMEOUT 120 LABELS docs)
