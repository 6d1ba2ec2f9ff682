# SPDX-License-Identifier: Apache-2.0
# lwIP (fetched by scripts/setup.sh into third_party/lwip, never committed)
# and the adapter that puts it on virtio-net.
#
#   vio_lwip                 lwIP's core, IPv4, Ethernet and lwiperf, NO_SYS,
#                            with adapters/lwip/include's lwipopts.h and
#                            arch/cc.h; one per build tree
#   vio_lwip_adapter(NAME LIBRARY lib)
#                            vio_netif.c built against vio library lib (its
#                            vio_config.h), as static library NAME

set(VIO_LWIP_DIR ${VIO_SOURCE_DIR}/third_party/lwip)
if(NOT EXISTS ${VIO_LWIP_DIR}/src/Filelists.cmake)
  message(FATAL_ERROR "vio: lwIP is not in ${VIO_LWIP_DIR}; run scripts/setup.sh "
                      "(make test and make run do) to fetch it")
endif()

# The files of lwIP's src/Filelists.cmake (lwipcore, lwipcore4) that a NO_SYS
# IPv4 stack needs, named here: that file also sets up lwIP's documentation.
set(s ${VIO_LWIP_DIR}/src)
add_library(vio_lwip STATIC
  ${s}/core/init.c ${s}/core/def.c ${s}/core/dns.c ${s}/core/inet_chksum.c ${s}/core/ip.c
  ${s}/core/mem.c ${s}/core/memp.c ${s}/core/netif.c ${s}/core/pbuf.c ${s}/core/raw.c
  ${s}/core/stats.c ${s}/core/sys.c ${s}/core/altcp.c ${s}/core/altcp_alloc.c
  ${s}/core/altcp_tcp.c ${s}/core/tcp.c ${s}/core/tcp_in.c ${s}/core/tcp_out.c
  ${s}/core/timeouts.c ${s}/core/udp.c
  ${s}/core/ipv4/autoip.c ${s}/core/ipv4/dhcp.c ${s}/core/ipv4/etharp.c ${s}/core/ipv4/icmp.c
  ${s}/core/ipv4/igmp.c ${s}/core/ipv4/ip4_frag.c ${s}/core/ipv4/ip4.c ${s}/core/ipv4/ip4_addr.c
  ${s}/netif/ethernet.c
  ${s}/apps/lwiperf/lwiperf.c)
# Installed (cmake/install.cmake), lwIP's headers and the options it was
# built with go to the prefix's include/vio-lwip (named from the prefix:
# a SYSTEM directory is exported as written, not made relative to it).
target_include_directories(vio_lwip SYSTEM PUBLIC
  $<BUILD_INTERFACE:${VIO_SOURCE_DIR}/adapters/lwip/include>
  $<BUILD_INTERFACE:${VIO_LWIP_DIR}/src/include>
  $<INSTALL_INTERFACE:$<INSTALL_PREFIX>/include/vio-lwip>)
# lwIP's own code is not held to vio's warning set; C99 is what it is written in.
set_target_properties(vio_lwip PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)
target_compile_options(vio_lwip PRIVATE -w)

function(vio_lwip_adapter name)
  cmake_parse_arguments(A "" "LIBRARY" "" ${ARGN})
  add_library(${name} STATIC ${VIO_SOURCE_DIR}/adapters/lwip/vio_netif.c)
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${VIO_SOURCE_DIR}/adapters/lwip>
                                            $<INSTALL_INTERFACE:include/vio-lwip>)
  target_link_libraries(${name} PUBLIC ${A_LIBRARY} vio_lwip)
endfunction()
