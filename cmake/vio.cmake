# SPDX-License-Identifier: Apache-2.0
# Helpers to build vio in one or more configurations within one build tree.

find_program(VIO_PYTHON NAMES python3 REQUIRED)

# vio_config(NAME DEFCONFIG file [CONFIG file] [SET CONFIG_X=y ...])
# Generates NAME's vio_config.h (and a CMake view of it) from the Kconfig
# tree and defines the static library vio_NAME built with it, plus the
# interface target vio_NAME_config carrying its include directories.
function(vio_config name)
  cmake_parse_arguments(A "" "DEFCONFIG;CONFIG" "SET" ${ARGN})
  set(dir ${CMAKE_BINARY_DIR}/config/${name})
  if(NOT A_CONFIG)
    set(A_CONFIG ${dir}/.config)
  endif()
  set(set_args)
  foreach(s IN LISTS A_SET)
    list(APPEND set_args --set ${s})
  endforeach()
  execute_process(
    COMMAND ${VIO_PYTHON} ${VIO_SOURCE_DIR}/scripts/kconfig.py gen
            --config ${A_CONFIG} --defconfig ${A_DEFCONFIG} ${set_args}
            --header ${dir}/include/vio_config.h --cmake ${dir}/config.cmake
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vio: configuration ${name} failed")
  endif()
  set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${A_CONFIG} ${A_DEFCONFIG} ${VIO_SOURCE_DIR}/Kconfig)
  include(${dir}/config.cmake)

  add_library(vio_${name}_config INTERFACE)
  # Installed (cmake/install.cmake), both directories become the prefix's include/.
  target_include_directories(vio_${name}_config INTERFACE
    $<BUILD_INTERFACE:${VIO_SOURCE_DIR}/include> $<BUILD_INTERFACE:${dir}/include>
    $<INSTALL_INTERFACE:include>)

  set(src
    ${VIO_SOURCE_DIR}/src/core/error.c
    ${VIO_SOURCE_DIR}/src/core/log.c
    ${VIO_SOURCE_DIR}/src/core/virtqueue.c
    ${VIO_SOURCE_DIR}/src/core/virtqueue_split.c
    ${VIO_SOURCE_DIR}/src/core/virtqueue_packed.c
    ${VIO_SOURCE_DIR}/src/core/device.c
    ${VIO_SOURCE_DIR}/src/core/feature_names.c)
  if(CONFIG_VIO_TRANSPORT_MMIO)
    list(APPEND src ${VIO_SOURCE_DIR}/src/transport/mmio.c)
  endif()
  if(CONFIG_VIO_TRANSPORT_PCI)
    list(APPEND src ${VIO_SOURCE_DIR}/src/transport/pci.c
                    ${VIO_SOURCE_DIR}/src/transport/pci_modern.c
                    ${VIO_SOURCE_DIR}/src/transport/pci_legacy.c
                    ${VIO_SOURCE_DIR}/src/transport/pci_msix.c)
  endif()
  if(CONFIG_VIO_DRIVER_RNG)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/rng.c)
  endif()
  if(CONFIG_VIO_DRIVER_BLK)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/blk.c ${VIO_SOURCE_DIR}/src/dev/blk_io.c
                    ${VIO_SOURCE_DIR}/src/dev/blk_probe.c)
  endif()
  if(CONFIG_VIO_DRIVER_NET)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/net.c ${VIO_SOURCE_DIR}/src/dev/net_probe.c
                    ${VIO_SOURCE_DIR}/src/dev/net_rx.c ${VIO_SOURCE_DIR}/src/dev/net_tx.c
                    ${VIO_SOURCE_DIR}/src/dev/net_ctrl.c)
  endif()
  if(CONFIG_VIO_DRIVER_CONSOLE)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/console.c ${VIO_SOURCE_DIR}/src/dev/console_io.c
                    ${VIO_SOURCE_DIR}/src/dev/console_ctrl.c)
  endif()
  if(CONFIG_VIO_DRIVER_INPUT)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/input.c ${VIO_SOURCE_DIR}/src/dev/input_ev.c)
  endif()
  if(CONFIG_VIO_DRIVER_GPU)
    list(APPEND src ${VIO_SOURCE_DIR}/src/dev/gpu.c ${VIO_SOURCE_DIR}/src/dev/gpu_cmd.c
                    ${VIO_SOURCE_DIR}/src/dev/gpu_edid.c)
  endif()
  if(CONFIG_VIO_FB)
    list(APPEND src ${VIO_SOURCE_DIR}/src/fb/fb.c)
  endif()
  if(CONFIG_VIO_FB_FONT)
    list(APPEND src ${VIO_SOURCE_DIR}/src/fb/font.c)
  endif()
  add_library(vio_${name} STATIC ${src})
  target_link_libraries(vio_${name} PUBLIC vio_${name}_config)
  target_include_directories(vio_${name} PRIVATE ${VIO_SOURCE_DIR}/src)
  if(VIO_TARGET STREQUAL "host")
    target_compile_definitions(vio_${name}_config INTERFACE VIO_HOST_SIM=1)
  endif()
endfunction()
