# SPDX-License-Identifier: Apache-2.0
#
#   make run   [ARCH=riscv64|aarch64] [VIRTIO=legacy|modern] [DEVICES=...] [QEMU_EXTRA=...]
#              [NET_FWD="HOSTPORT:GUESTPORT ..."] [NETDEV=BACKEND]
#              (net: QEMU's user-mode network, restrict=on; NET_FWD forwards
#              127.0.0.1:HOSTPORT to the guest, e.g. NET_FWD=5555:7 for `echo 7`;
#              NETDEV replaces the backend, e.g. socket,listen=127.0.0.1:5556)
#              [RING=split|packed]   packed: every device offers packed virtqueues
#              (VirtIO 1.1; needs VIRTIO=modern)
#              [TRANSPORT=mmio|pci]   pci: the devices are virtio-*-pci functions
#              on the PCIe host bridge (docs/pci.md)
#              [CONSOLE=uart|virtio]   virtio: the shell on virtio-console port 0,
#              a Unix socket (build/run-console.sock) QEMU waits for a client on:
#              socat -,raw,echo=0 UNIX-CONNECT:build/run-console.sock
#              [GUI=1|0]   1: a QEMU window (gtk, else sdl) shows the GPU's
#              scanouts; its keys reach the shell through the virtio keyboard
#              and the pointer the virtio tablet and mouse (`gpu demo`,
#              `input watch`). 0: headless. Unset: a window when $DISPLAY or
#              $WAYLAND_DISPLAY is set, headless otherwise. The UART stays
#              on the terminal either way.
#   make test  every test: host tests (gcc and clang under ASan, clang under
#              TSan), a short run of each libFuzzer target (host-fuzz,
#              docs/fuzzing.md) and QEMU tests on both boards, both interfaces
#   make menuconfig / savedefconfig [ARCH=...]
#
# Both run and test install what they need first (scripts/setup.sh).

ARCH ?= riscv64
VIRTIO ?= legacy
DEVICES ?= all
QEMU_EXTRA ?=
NET_FWD ?=
NETDEV ?=
CONSOLE ?= uart
RING ?= split
TRANSPORT ?= mmio
GUI ?= auto
PRESETS ?= host-gcc host-clang host-tsan host-fuzz riscv64 aarch64
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

BUILD_DIR := build/$(ARCH)

.PHONY: run test setup build menuconfig savedefconfig clean

setup:
	@sh scripts/setup.sh

build: setup
	@cmake --preset $(ARCH) >/dev/null
	@cmake --build --preset $(ARCH) -j $(JOBS)

# The first blk device is backed by a disk image that persists between runs.
RUN_DISK ?= build/run-disk.img

RUN_CONSOLE_SOCKET ?= build/run-console.sock
ifeq ($(CONSOLE),virtio)
RUN_SHELL := vio-shell-vcon
RUN_CONSOLE_ARGS := --console-socket $(RUN_CONSOLE_SOCKET) --console-wait
else
RUN_SHELL := vio-shell
RUN_CONSOLE_ARGS :=
endif

# GUI=1 asks for a window (an error without a front end), GUI=0 for none.
RUN_DISPLAY := $(if $(filter 1 yes on,$(GUI)),gui,$(if $(filter 0 no off,$(GUI)),none,auto))

run: build
	@[ -f $(RUN_DISK) ] || truncate -s 64M $(RUN_DISK)
	@python3 scripts/qemu.py run --arch $(ARCH) --virtio $(VIRTIO) \
		--devices "$(DEVICES)" --extra "$(QEMU_EXTRA)" --blk-file $(RUN_DISK) \
		$(foreach f,$(NET_FWD),--net-fwd $(f)) $(if $(NETDEV),--netdev "$(NETDEV)") \
		--ring $(RING) --transport $(TRANSPORT) $(RUN_CONSOLE_ARGS) --display $(RUN_DISPLAY) \
		$(BUILD_DIR)/apps/shell/$(RUN_SHELL).elf

test: setup
	@set -e; for p in $(PRESETS); do \
		echo "=== $$p: configure and build"; \
		cmake --preset $$p >/dev/null; \
		cmake --build --preset $$p -j $(JOBS); \
	done; \
	status=0; for p in $(PRESETS); do \
		echo "=== $$p: test"; \
		ctest --preset $$p -j $(JOBS) || status=1; \
	done; exit $$status

menuconfig: setup
	@cmake --preset $(ARCH) >/dev/null
	@python3 scripts/kconfig.py menuconfig --config $(BUILD_DIR)/.config \
		--defconfig configs/qemu-virt-$(ARCH)_defconfig
	@cmake --preset $(ARCH) >/dev/null

savedefconfig: setup
	@cmake --preset $(ARCH) >/dev/null
	@python3 scripts/kconfig.py savedefconfig --config $(BUILD_DIR)/.config \
		--out configs/qemu-virt-$(ARCH)_defconfig

clean:
	rm -rf build

# make bench [BENCH_ARGS="--quick" ...]: the virtio-blk benchmark. Builds the
# bench firmwares of both boards, fetches the reference guests (U-Boot, a
# Linux kernel and busybox from Debian) into build/bench/refs, then runs
# bench/run_bench.py, which prints the tables (also in build/bench/results.md).
# A program, not a test: it never fails on a timing.
.PHONY: bench
bench: setup
	@for a in riscv64 aarch64; do \
		cmake --preset $$a >/dev/null && \
		cmake --build --preset $$a -j $(JOBS) --target vio-blk-bench vio-blk-bench-poll blk-indep-loop \
			|| exit 1; \
	done
	@sh bench/fetch_refs.sh
	@python3 bench/run_bench.py $(BENCH_ARGS)

# make bench-net [BENCH_ARGS="--quick" ...]: the virtio-net benchmark
# (bench/run_net_bench.py): frames per second both ways against a host
# program on a loopback socket netdev, TCP from Debian's iperf 2 through a
# 127.0.0.1 forward, vio beside its floors and the Linux guest. A program,
# not a test: it never fails on a timing.
.PHONY: bench-net
bench-net: setup
	@for a in riscv64 aarch64; do \
		cmake --preset $$a >/dev/null && \
		cmake --build --preset $$a -j $(JOBS) --target vio-net-bench vio-net-bench-poll \
			net-indep-loop || exit 1; \
	done
	@sh bench/fetch_refs.sh
	@python3 bench/run_net_bench.py $(BENCH_ARGS)

# make bench-console [BENCH_ARGS="--rounds 3" ...]: the virtio-console
# benchmark (bench/run_console_bench.py): bytes per second through a named
# virtio-serial port both ways against a host program on a Unix socket
# chardev, vio beside the Linux guest. A program, not a test: it never
# fails on a timing.
.PHONY: bench-console
bench-console: setup
	@for a in riscv64 aarch64; do \
		cmake --preset $$a >/dev/null && \
		cmake --build --preset $$a -j $(JOBS) --target vio-console-bench \
			vio-console-bench-poll || exit 1; \
	done
	@sh bench/fetch_refs.sh
	@python3 bench/run_console_bench.py $(BENCH_ARGS)
