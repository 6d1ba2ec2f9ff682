# SPDX-License-Identifier: Apache-2.0
# The library as a package, for the board this tree is built for:
# `cmake --install BUILD --prefix DIR` puts there
#
#   lib/libvio.a                the library in the main configuration
#   lib/libvio_board.a          the board: start-up code, UART, interrupts,
#                               timer, device-tree reader, bare-metal port
#   lib/vio/link.ld             the board's linker script
#   lib/libvio_lwip.a           the lwIP adapter (CONFIG_VIO_ADAPTER_LWIP)
#   lib/libvio_lwipcore.a       the lwIP build it was made with
#   include/vio/**              the public headers
#   include/vio_config.h        the configuration they were built with
#   include/vio-board/          board.h, vio_baremetal.h
#   include/vio-lwip/           lwIP's headers, lwipopts.h, arch/cc.h, vio_netif.h
#   lib/cmake/vio/              find_package(vio): vio::vio, vio::board,
#                               vio::lwip, the toolchain file, vio_board_image()
#   lib/pkgconfig/              vio.pc, vio-board.pc, vio-lwip.pc
#
# Every path inside is relative to the prefix, so the tree can be moved.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# config.cmake sets CONFIG_* in vio_config()'s scope only; read it again here.
include(${CMAKE_BINARY_DIR}/config/main/config.cmake)

set(VIO_PKG_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/vio)

set_target_properties(vio_main PROPERTIES OUTPUT_NAME vio EXPORT_NAME vio)
set_target_properties(vio_main_config PROPERTIES EXPORT_NAME config)
install(TARGETS vio_main vio_main_config EXPORT vioTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${VIO_SOURCE_DIR}/include/vio DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_BINARY_DIR}/config/main/include/vio_config.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The board as an archive of the objects the firmwares here link. Nothing
# refers to the entry point, and picolibc (linked last) refers to the
# board's stdout, so a consumer links the whole archive: vio::board says so
# in its link options (CMake's WHOLE_ARCHIVE link feature is not defined
# for a Generic system).
add_library(vio_board_archive STATIC $<TARGET_OBJECTS:vio_board>)
set_target_properties(vio_board_archive PROPERTIES OUTPUT_NAME vio_board LINKER_LANGUAGE C)
install(TARGETS vio_board_archive ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
add_library(vio_board_pkg INTERFACE)
set_target_properties(vio_board_pkg PROPERTIES EXPORT_NAME board)
target_link_libraries(vio_board_pkg INTERFACE vio_main)
target_include_directories(vio_board_pkg INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/vio-board>)
set(lib $<INSTALL_PREFIX>/${CMAKE_INSTALL_LIBDIR})
target_link_options(vio_board_pkg INTERFACE
  "$<INSTALL_INTERFACE:LINKER:--whole-archive,${lib}/libvio_board.a,--no-whole-archive>"
  "$<INSTALL_INTERFACE:-T${lib}/vio/link.ld>")
install(TARGETS vio_board_pkg EXPORT vioTargets)
install(FILES ${VIO_BOARD_DIR}/link.ld DESTINATION ${CMAKE_INSTALL_LIBDIR}/vio)
install(FILES ${VIO_SOURCE_DIR}/boards/common/board.h
              ${VIO_SOURCE_DIR}/ports/baremetal/vio_baremetal.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vio-board)

set(VIO_PKG_LWIP 0)
if(CONFIG_VIO_ADAPTER_LWIP)
  set(VIO_PKG_LWIP 1)
  set_target_properties(vio_lwip PROPERTIES OUTPUT_NAME vio_lwipcore EXPORT_NAME lwipcore)
  set_target_properties(vio_lwip_main PROPERTIES OUTPUT_NAME vio_lwip EXPORT_NAME lwip)
  install(TARGETS vio_lwip vio_lwip_main EXPORT vioTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${VIO_LWIP_DIR}/src/include/ ${VIO_SOURCE_DIR}/adapters/lwip/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vio-lwip)
  install(FILES ${VIO_SOURCE_DIR}/adapters/lwip/vio_netif.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vio-lwip)
endif()

install(EXPORT vioTargets NAMESPACE vio:: DESTINATION ${VIO_PKG_CMAKEDIR})

# What a consumer compiles with: the toolchain file of this build, and for
# pkg-config users the compiler and flags it sets.
install(FILES ${VIO_SOURCE_DIR}/cmake/toolchain-${VIO_TARGET}.cmake
        DESTINATION ${VIO_PKG_CMAKEDIR} RENAME vio-toolchain.cmake)
get_filename_component(VIO_PKG_CC ${CMAKE_C_COMPILER} NAME)
get_filename_component(VIO_PKG_OBJCOPY ${CMAKE_OBJCOPY} NAME)
string(STRIP "${CMAKE_C_FLAGS}" VIO_PKG_CFLAGS)
string(STRIP "${CMAKE_EXE_LINKER_FLAGS}" VIO_PKG_LDFLAGS)

configure_package_config_file(${VIO_SOURCE_DIR}/cmake/pkg/vioConfig.cmake.in
  ${CMAKE_BINARY_DIR}/pkg/vioConfig.cmake INSTALL_DESTINATION ${VIO_PKG_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/pkg/vioConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/pkg/vioConfig.cmake ${CMAKE_BINARY_DIR}/pkg/vioConfigVersion.cmake
        DESTINATION ${VIO_PKG_CMAKEDIR})

set(pcs vio vio-board)
if(VIO_PKG_LWIP)
  list(APPEND pcs vio-lwip)
endif()
foreach(pc IN LISTS pcs)
  configure_file(${VIO_SOURCE_DIR}/cmake/pkg/${pc}.pc.in ${CMAKE_BINARY_DIR}/pkg/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/pkg/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
