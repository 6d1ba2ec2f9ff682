# SPDX-License-Identifier: Apache-2.0
# Debian's riscv64-unknown-elf-gcc with picolibc, for the qemu-virt-riscv64 board.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_ASM_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_OBJCOPY riscv64-unknown-elf-objcopy CACHE FILEPATH "")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(VIO_ARCH_FLAGS "-march=rv64gc -mabi=lp64d -mcmodel=medany --specs=picolibc.specs")
set(CMAKE_C_FLAGS_INIT "${VIO_ARCH_FLAGS} -ffreestanding -fno-common -ffunction-sections -fdata-sections")
set(CMAKE_ASM_FLAGS_INIT "${VIO_ARCH_FLAGS}")
# The link line repeats the C flags (arch flags, --specs); a second
# --specs=picolibc.specs would make gcc fail.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -Wl,--gc-sections")
set(VIO_TARGET riscv64)
