# SPDX-License-Identifier: Apache-2.0
# Firmwares for the board in VIO_BOARD: configurations, programs, QEMU tests.

# The user's configuration (make menuconfig) and three fixed variants the QEMU
# tests need: one interface only, each way, and polled completion.
vio_config(main DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig
                CONFIG ${CMAKE_BINARY_DIR}/.config)
vio_config(legacyonly DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig
                      SET CONFIG_VIO_IFACE_LEGACY=y)
vio_config(modernonly DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig
                      SET CONFIG_VIO_IFACE_MODERN=y)
vio_config(poll DEFCONFIG ${VIO_SOURCE_DIR}/configs/${VIO_BOARD}_defconfig
                SET CONFIG_VIO_COMPLETION_POLL=y)

vio_lwip_adapter(vio_lwip_main LIBRARY vio_main)

vio_firmware(hello LIBRARY vio_main SOURCES ${VIO_SOURCE_DIR}/apps/hello/main.c)

# vio_app(NAME LIBRARY lib SOURCES files...)
# A firmware that starts vio with app_vio_start() (apps/common).
function(vio_app name)
  cmake_parse_arguments(A "" "LIBRARY" "SOURCES" ${ARGN})
  vio_firmware(${name} LIBRARY ${A_LIBRARY}
               SOURCES ${A_SOURCES} ${VIO_SOURCE_DIR}/apps/common/app.c
                       ${VIO_SOURCE_DIR}/apps/common/console_io.c)
  target_include_directories(${name} PRIVATE ${VIO_SOURCE_DIR}/apps/common)
endfunction()

add_subdirectory(${VIO_SOURCE_DIR}/apps/shell ${CMAKE_BINARY_DIR}/apps/shell)
add_subdirectory(${VIO_SOURCE_DIR}/tests/qemu ${CMAKE_BINARY_DIR}/tests/qemu)
include(${VIO_SOURCE_DIR}/tests/qemu/trap.cmake)
add_subdirectory(${VIO_SOURCE_DIR}/bench ${CMAKE_BINARY_DIR}/bench)
