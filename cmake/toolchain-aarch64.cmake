# SPDX-License-Identifier: Apache-2.0
# Debian's aarch64-linux-gnu-gcc with picolibc (freestanding), for the
# qemu-virt-aarch64 board. -mstrict-align: unaligned accesses fault while the
# MMU is off; -mgeneral-regs-only keeps vio's code off the FP/SIMD registers;
# -mno-outline-atomics: the board's Cortex-A57 has no LSE atomics, so gcc's
# out-of-line helpers (a call and a run-time check per atomic operation)
# always end in the same exclusive-access loop that is now inlined.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_ASM_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_OBJCOPY aarch64-linux-gnu-objcopy CACHE FILEPATH "")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(VIO_ARCH_FLAGS "-mcpu=cortex-a57 -mstrict-align --specs=picolibc.specs")
set(CMAKE_C_FLAGS_INIT "${VIO_ARCH_FLAGS} -mgeneral-regs-only -mno-outline-atomics -ffreestanding -fno-common -ffunction-sections -fdata-sections -fno-pie")
set(CMAKE_ASM_FLAGS_INIT "${VIO_ARCH_FLAGS}")
# The link line repeats the C flags (arch flags, --specs); a second
# --specs=picolibc.specs would make gcc fail.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -no-pie -Wl,--gc-sections")
set(VIO_TARGET aarch64)
