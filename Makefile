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
#   make bench / bench-net / bench-console / bench-gpu [BENCH_ARGS=...]
#              the benchmarks (below); each says how far it is and about how
#              long it has left
#   make charts [FRESH=1]   the benchmarks' charts and the gpu demo's
#              pictures in docs/images/ (below)
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

# A first configure shows what it does (it takes a while); later ones are quiet.
configure_quiet = if [ -f build/$(1)/CMakeCache.txt ]; then cmake --preset $(1) >/dev/null; \
	else cmake --preset $(1); fi

build: setup
	@echo "build: configure and build $(ARCH) (build/$(ARCH))"
	@$(call configure_quiet,$(ARCH))
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
		$(call configure_quiet,$$p); \
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

# The firmwares a benchmark runs, built for both boards.
define bench_build
	@for a in riscv64 aarch64; do \
		cmake --preset $$a >/dev/null && \
		cmake --build --preset $$a -j $(JOBS) --target $(1) || exit 1; \
	done
endef

# make bench [BENCH_ARGS="--quick" ...]: the virtio-blk benchmark. Builds the
# bench firmwares of both boards, fetches the reference guests (U-Boot, a
# Linux kernel and busybox from Debian) into build/bench/refs, then runs
# bench/run_bench.py, which prints the tables (also in build/bench/results.md).
# A program, not a test: it never fails on a timing.
.PHONY: bench
bench: setup
	$(call bench_build,vio-blk-bench vio-blk-bench-poll blk-indep-loop)
	@sh bench/fetch_refs.sh
	@python3 bench/run_bench.py $(BENCH_ARGS)

# make bench-net [BENCH_ARGS="--quick" ...]: the virtio-net benchmark
# (bench/run_net_bench.py): frames per second both ways against a host
# program on a loopback socket netdev, TCP from Debian's iperf 2 through a
# 127.0.0.1 forward and back to a host sink through another, vio beside its
# floors and the Linux guest. A program,
# not a test: it never fails on a timing.
.PHONY: bench-net
bench-net: setup
	$(call bench_build,vio-net-bench vio-net-bench-poll net-indep-loop)
	@sh bench/fetch_refs.sh
	@python3 bench/run_net_bench.py $(BENCH_ARGS)

# make bench-console [BENCH_ARGS="--rounds 3" ...]: the virtio-console
# benchmark (bench/run_console_bench.py): bytes per second through a named
# virtio-serial port both ways against a host program on a Unix socket
# chardev, vio beside the Linux guest. A program, not a test: it never
# fails on a timing.
.PHONY: bench-console
bench-console: setup
	$(call bench_build,vio-console-bench vio-console-bench-poll)
	@sh bench/fetch_refs.sh
	@python3 bench/run_console_bench.py $(BENCH_ARGS)

# make bench-gpu [BENCH_ARGS="--rounds 3" ...]: the virtio-gpu benchmark
# (bench/run_gpu_bench.py): full-screen and 64x64 updates per second, vio
# beside the independent loop. A program, not a test: it never fails on a
# timing.
.PHONY: bench-gpu
bench-gpu: setup
	$(call bench_build,vio-gpu-bench vio-gpu-bench-poll gpu-indep-loop)
	@python3 bench/run_gpu_bench.py $(BENCH_ARGS)

# make charts [FRESH=1]: the pictures in docs/images/. The benchmarks'
# saved results (build/bench/*.json) become bench-blk.png, bench-net.png,
# bench-console.png and bench-gpu.png (bench/charts.py, matplotlib: vio
# beside the bare loop, the independent loop, U-Boot and Linux, as
# ratios); a benchmark without saved results, or every one with FRESH=1,
# runs first in a quick form (a few minutes each). Then the shell's
# `gpu demo` is shot twice on riscv64: gpu-demo.png from a QMP screendump
# (tests/qemu/test_gpu.py) and gui-window.png, QEMU's window under Xvfb
# (tests/qemu/test_gui.py).
CHARTS_BENCH := bench:results bench-net:net-results bench-console:console-results \
	bench-gpu:gpu-results
QUICK_bench := --quick
QUICK_bench-net := --quick
QUICK_bench-console := --iface modern --rounds 2 --bytes 4194304
QUICK_bench-gpu := --virtio modern --rounds 2
.PHONY: charts
charts:
	@sh scripts/setup.sh charts
	@k=0; for pair in $(CHARTS_BENCH); do \
		k=$$((k + 1)); target=$${pair%%:*}; file=build/bench/$${pair#*:}.json; \
		if [ -n "$(FRESH)" ] || [ ! -f $$file ]; then \
			echo "charts: step $$k/6: make $$target (quick) for $$file"; \
			case $$target in \
			bench) args="$(QUICK_bench)" ;; bench-net) args="$(QUICK_bench-net)" ;; \
			bench-console) args="$(QUICK_bench-console)" ;; *) args="$(QUICK_bench-gpu)" ;; \
			esac; \
			$(MAKE) --no-print-directory $$target BENCH_ARGS="$$args" || exit 1; \
		else \
			echo "charts: step $$k/6: $$file is there (FRESH=1 runs it again)"; \
		fi; \
	done
	@echo "charts: step 5/6: drawing the benchmarks' charts"
	@python3 bench/charts.py
	@echo "charts: step 6/6: the gpu demo, as a screendump and in QEMU's window"
	@cmake --preset riscv64 >/dev/null && cmake --build --preset riscv64 -j $(JOBS) --target vio-shell
	@python3 tests/qemu/test_gpu.py --arch riscv64 --virtio modern --case shell \
		--png docs/images/gpu-demo.png build/riscv64/apps/shell/vio-shell.elf \
		>build/charts-gpu-demo.log || { cat build/charts-gpu-demo.log; exit 1; }
	@grep '^wrote' build/charts-gpu-demo.log
	@python3 tests/qemu/test_gui.py --arch riscv64 --virtio modern \
		--png docs/images/gui-window.png build/riscv64/apps/shell/vio-shell.elf \
		>build/charts-gui-window.log || { cat build/charts-gui-window.log; exit 1; }
	@grep '^wrote' build/charts-gui-window.log
