# SPDX-License-Identifier: Apache-2.0
# Host build: the library against the simulated device, under sanitizers.
#
# One library per configuration: host (the defaults: both interfaces,
# interrupt-driven completion), legacy (legacy only), modern (modern only)
# and poll (polled completion). Each test program links one of them with
# the simulator (tests/sim) and is registered with ctest. VIO_SANITIZE
# builds under AddressSanitizer (presets host-gcc, host-clang),
# VIO_SANITIZE_THREAD under ThreadSanitizer (host-tsan, the threaded test).

option(VIO_SANITIZE "Build the host tests with AddressSanitizer and UBSan" OFF)
option(VIO_SANITIZE_THREAD "Build the host tests with ThreadSanitizer and UBSan (instead of ASan)" OFF)
if(VIO_SANITIZE_THREAD)
  # gcc refuses atomic_thread_fence under -fsanitize=thread (-Wtsan): clang builds this one.
  set(vio_san -fsanitize=thread,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(VIO_SANITIZE)
  set(vio_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
endif()
option(VIO_FUZZ "Build the libFuzzer targets of tests/fuzz instead of the host tests (clang)" OFF)
if(VIO_FUZZ)
  # Coverage feedback from the library and the simulator too, not only
  # from the targets (tests/fuzz.cmake).
  list(APPEND vio_san -fsanitize=fuzzer-no-link)
  # libFuzzer's own advice: optimise a little. -O1 runs 2 to 3 times the
  # inputs a second of the Debug build's -O0 (docs/fuzzing.md, Speed) and
  # keeps the sanitizers' checks (the last -O on the command line wins).
  add_compile_options(-O1)
endif()
if(vio_san)
  # Before any target is defined, so the libraries get them too.
  add_compile_options(${vio_san})
  add_link_options(${vio_san})
endif()
find_package(Threads REQUIRED)

set(vio_defconfig ${VIO_SOURCE_DIR}/configs/host_defconfig)
vio_config(host DEFCONFIG ${vio_defconfig})
vio_config(legacy DEFCONFIG ${vio_defconfig} SET CONFIG_VIO_IFACE_LEGACY=y)
vio_config(modern DEFCONFIG ${vio_defconfig} SET CONFIG_VIO_IFACE_MODERN=y)
# The polled build also takes completions one at a time (the smallest batch).
vio_config(poll DEFCONFIG ${vio_defconfig} SET CONFIG_VIO_COMPLETION_POLL=y CONFIG_VIO_NET_BATCH=1)
# No virtio-mmio transport: the core and the drivers must link without it.
vio_config(nommio DEFCONFIG ${vio_defconfig} SET CONFIG_VIO_TRANSPORT_MMIO=n)
# No virtio-pci transport: the library builds without it (compiled, not run).
vio_config(nopci DEFCONFIG ${vio_defconfig} SET CONFIG_VIO_TRANSPORT_PCI=n)

# The simulated devices and the test port; they only need the public headers.
add_library(vio_sim STATIC
  ${VIO_SOURCE_DIR}/tests/sim/sim.c
  ${VIO_SOURCE_DIR}/tests/sim/sim_port.c
  ${VIO_SOURCE_DIR}/tests/sim/sim_pthread_port.c
  ${VIO_SOURCE_DIR}/tests/sim/sim_rng.c
  ${VIO_SOURCE_DIR}/tests/sim/sim_cache.c
  ${VIO_SOURCE_DIR}/tests/sim/blk_model.c
  ${VIO_SOURCE_DIR}/tests/sim/net_model.c
  ${VIO_SOURCE_DIR}/tests/sim/console_model.c
  ${VIO_SOURCE_DIR}/tests/sim/input_model.c
  ${VIO_SOURCE_DIR}/tests/sim/gpu_model.c
  ${VIO_SOURCE_DIR}/tests/sim/pci_model.c
  ${VIO_SOURCE_DIR}/tests/host/test.c)
target_include_directories(vio_sim PUBLIC ${VIO_SOURCE_DIR}/tests/sim ${VIO_SOURCE_DIR}/tests/host
                                   ${VIO_SOURCE_DIR}/include)
target_compile_definitions(vio_sim PUBLIC VIO_HOST_SIM=1)
target_link_libraries(vio_sim PUBLIC Threads::Threads)

# Each library's register accesses land in the simulator.
foreach(cfg host legacy modern poll nommio nopci)
  target_link_libraries(vio_${cfg} PUBLIC vio_sim)
endforeach()

if(VIO_FUZZ)
  include(${VIO_SOURCE_DIR}/tests/fuzz.cmake)
  return()
endif()

set(vio_test_env
  "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1"
  "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# vio_host_test(NAME LIBRARY lib SOURCES files...)
function(vio_host_test name)
  cmake_parse_arguments(A "" "LIBRARY" "SOURCES" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBRARY})
  target_include_directories(${name} PRIVATE ${VIO_SOURCE_DIR}/src)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${vio_test_env}" TIMEOUT 120)
endfunction()

# vio_host_test_packed(NAME PROGRAM): PROGRAM again with the simulated
# modern devices offering VIRTIO_F_RING_PACKED (tests/sim/sim.h), so the
# drivers' cases run on packed rings too.
function(vio_host_test_packed name program)
  add_test(NAME ${name} COMMAND ${program})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${vio_test_env};VIO_SIM_PACKED=1"
                                          TIMEOUT 120)
endfunction()

set(t ${VIO_SOURCE_DIR}/tests/host)

# The concurrency contract on real threads: the device in a thread of its
# own, several application threads on one device and several queues
# (tests/sim/sim_pthread_port.h). Built in every host preset.
vio_host_test(test_threads LIBRARY vio_host SOURCES ${t}/test_threads.c)
vio_host_test(test_threads_poll LIBRARY vio_poll SOURCES ${t}/test_threads.c)
vio_host_test(test_console_threads LIBRARY vio_host SOURCES ${t}/test_console_threads.c)
vio_host_test(test_console_threads_poll LIBRARY vio_poll SOURCES ${t}/test_console_threads.c)
vio_host_test_packed(test_threads_packed test_threads)
vio_host_test_packed(test_console_threads_packed test_console_threads)
vio_host_test(test_input_threads LIBRARY vio_host SOURCES ${t}/test_input_threads.c)
vio_host_test(test_input_threads_poll LIBRARY vio_poll SOURCES ${t}/test_input_threads.c)
vio_host_test_packed(test_input_threads_packed test_input_threads)

# ThreadSanitizer builds only that: the other tests run one thread, gain
# nothing from it and would take minutes under it.
if(VIO_SANITIZE_THREAD)
  return()
endif()

vio_host_test(test_transport LIBRARY vio_host SOURCES ${t}/test_transport.c)
# The shell's line editor, which needs nothing but a write callback.
vio_host_test(test_line LIBRARY vio_host SOURCES ${t}/test_line.c
              ${VIO_SOURCE_DIR}/apps/shell/line.c)
target_include_directories(test_line PRIVATE ${VIO_SOURCE_DIR}/apps/shell)
vio_host_test(test_virtqueue LIBRARY vio_host SOURCES ${t}/test_virtqueue.c)
vio_host_test(test_virtqueue_packed LIBRARY vio_host SOURCES ${t}/test_virtqueue_packed.c)
vio_host_test(test_device LIBRARY vio_host SOURCES ${t}/test_device.c)
vio_host_test(test_recover LIBRARY vio_host SOURCES ${t}/test_recover.c)
vio_host_test(test_recover_poll LIBRARY vio_poll SOURCES ${t}/test_recover.c)
vio_host_test_packed(test_recover_packed test_recover)
vio_host_test(test_recover_drivers LIBRARY vio_host SOURCES ${t}/test_recover_drivers.c)
vio_host_test(test_recover_drivers_poll LIBRARY vio_poll SOURCES ${t}/test_recover_drivers.c)
vio_host_test_packed(test_recover_drivers_packed test_recover_drivers)
vio_host_test(test_rng LIBRARY vio_host SOURCES ${t}/test_rng.c)
vio_host_test(test_rng_poll LIBRARY vio_poll SOURCES ${t}/test_rng.c)
vio_host_test(test_blk LIBRARY vio_host SOURCES ${t}/test_blk.c)
vio_host_test(test_blk_poll LIBRARY vio_poll SOURCES ${t}/test_blk.c)
vio_host_test(test_net LIBRARY vio_host SOURCES ${t}/test_net.c)
vio_host_test(test_net_poll LIBRARY vio_poll SOURCES ${t}/test_net.c)
vio_host_test(test_console LIBRARY vio_host SOURCES ${t}/test_console.c)
vio_host_test(test_console_poll LIBRARY vio_poll SOURCES ${t}/test_console.c)
vio_host_test_packed(test_rng_packed test_rng)
vio_host_test_packed(test_blk_packed test_blk)
vio_host_test_packed(test_blk_poll_packed test_blk_poll)
vio_host_test_packed(test_net_packed test_net)
vio_host_test_packed(test_net_poll_packed test_net_poll)
vio_host_test_packed(test_console_packed test_console)
vio_host_test_packed(test_console_poll_packed test_console_poll)
vio_host_test(test_input LIBRARY vio_host SOURCES ${t}/test_input.c)
vio_host_test(test_input_poll LIBRARY vio_poll SOURCES ${t}/test_input.c)
vio_host_test_packed(test_input_packed test_input)
vio_host_test(test_gpu LIBRARY vio_host SOURCES ${t}/test_gpu.c)
vio_host_test(test_gpu_poll LIBRARY vio_poll SOURCES ${t}/test_gpu.c)
vio_host_test_packed(test_gpu_packed test_gpu)
vio_host_test(test_cache LIBRARY vio_sim SOURCES ${t}/test_cache.c)
vio_host_test(test_iface_legacy LIBRARY vio_legacy SOURCES ${t}/test_iface.c)
vio_host_test(test_iface_modern LIBRARY vio_modern SOURCES ${t}/test_iface.c)
# Every object of the mmio-less library is linked, used or not, so a call
# into the mmio transport from any of them is an undefined symbol.
vio_host_test(test_nommio LIBRARY "$<LINK_LIBRARY:WHOLE_ARCHIVE,vio_nommio>"
              SOURCES ${t}/test_nommio.c)

# The boards' PCI enumeration and the virtio-pci transport against a
# simulated PCI host that lies (tests/sim/pci_model.h).
vio_host_test(test_pci LIBRARY vio_host
              SOURCES ${t}/test_pci.c ${VIO_SOURCE_DIR}/boards/common/pci.c)
target_include_directories(test_pci PRIVATE ${VIO_SOURCE_DIR}/boards/common)
# Their PCI Express hot-plug layer against the simulated host's slot.
vio_host_test(test_pci_hotplug LIBRARY vio_host
              SOURCES ${t}/test_pci_hotplug.c ${VIO_SOURCE_DIR}/boards/common/pci.c
                      ${VIO_SOURCE_DIR}/boards/common/pci_hotplug.c)
target_include_directories(test_pci_hotplug PRIVATE ${VIO_SOURCE_DIR}/boards/common)
# The boards' extra handlers of shared interrupt lines.
vio_host_test(test_irq_share LIBRARY vio_sim
              SOURCES ${t}/test_irq_share.c ${VIO_SOURCE_DIR}/boards/common/irq_share.c)
target_include_directories(test_irq_share PRIVATE ${VIO_SOURCE_DIR}/boards/common)

# The drivers and the virtqueue on a platform without DMA coherency (the
# cache model of tests/sim/sim_cache.h; test_cache checks the model itself):
# every cache clean and invalidate the library misses fails one of them.
vio_host_test(test_noncoherent LIBRARY vio_host SOURCES ${t}/test_noncoherent.c)
vio_host_test(test_noncoherent_poll LIBRARY vio_poll SOURCES ${t}/test_noncoherent.c)
vio_host_test(test_noncoherent_vq LIBRARY vio_host SOURCES ${t}/test_noncoherent_vq.c)

# The boards' device-tree reader on the host, against trees compiled with dtc.
if(EXISTS ${t}/test_fdt.c)
  find_program(VIO_DTC dtc REQUIRED)
  set(dtbs)
  foreach(tree fdt_test qemu-virt-riscv64 qemu-virt-aarch64)
    set(out ${CMAKE_CURRENT_BINARY_DIR}/fdt-data/${tree}.dtb)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/fdt-data
      COMMAND ${VIO_DTC} -q -I dts -O dtb -o ${out} ${t}/data/${tree}.dts
      DEPENDS ${t}/data/${tree}.dts VERBATIM)
    list(APPEND dtbs ${out})
  endforeach()
  add_custom_target(test_fdt_data ALL DEPENDS ${dtbs})
  add_executable(test_fdt ${t}/test_fdt.c ${VIO_SOURCE_DIR}/boards/common/fdt.c
                          ${VIO_SOURCE_DIR}/boards/common/dt_board.c
                          ${VIO_SOURCE_DIR}/boards/common/dt_pci.c)
  target_include_directories(test_fdt PRIVATE ${VIO_SOURCE_DIR}/boards/common
                                              ${VIO_SOURCE_DIR}/include)
  add_dependencies(test_fdt test_fdt_data)
  add_test(NAME test_fdt COMMAND test_fdt ${CMAKE_CURRENT_BINARY_DIR}/fdt-data)
  set_tests_properties(test_fdt PROPERTIES ENVIRONMENT "${vio_test_env}" TIMEOUT 120)
endif()

# The lwIP adapter against stand-ins for the net driver's calls (the test
# file supplies them, so it links lwIP and the adapter, not the library).
vio_lwip_adapter(vio_lwip_adapter_host LIBRARY vio_host_config)
add_executable(test_lwip_netif ${t}/test_lwip_netif.c)
target_link_libraries(test_lwip_netif PRIVATE vio_lwip_adapter_host)
add_test(NAME test_lwip_netif COMMAND test_lwip_netif)
set_tests_properties(test_lwip_netif PROPERTIES ENVIRONMENT "${vio_test_env}" TIMEOUT 120)

# The template port only has to compile (warning-free) against the contract.
add_library(vio_port_template STATIC ${VIO_SOURCE_DIR}/ports/template/vio_port_template.c)
target_link_libraries(vio_port_template PRIVATE vio_host_config)

# The net benchmark's paced sender (bench/net_pacer.c), a host program: the
# frames it sends, checked on a loopback socket (never their timing).
add_executable(net_pacer ${VIO_SOURCE_DIR}/bench/net_pacer.c)
add_test(NAME bench-net-pacer
  COMMAND ${VIO_PYTHON} ${t}/net_pacer_test.py $<TARGET_FILE:net_pacer>)
set_tests_properties(bench-net-pacer PROPERTIES ENVIRONMENT "${vio_test_env}" TIMEOUT 120)
