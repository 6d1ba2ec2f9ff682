/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A QEMU TCG plugin that counts the guest's instructions per function, for
 * the benchmark's instruction counts (bench/count_insns.py). Built by
 * bench/build_plugin.sh against the plugin header of the QEMU that runs it
 * (the header is fetched there, never kept in the repository).
 *
 * Arguments (-plugin insn_plugin.so,ARG=VALUE,...):
 *   syms=FILE    the firmware's functions, one "START SIZE NAME" a line
 *                (hexadecimal start and size); instructions outside all of
 *                them count in one "[outside]" bucket (OpenSBI, for one);
 *   mark=ADDR    hexadecimal address of the firmware's bench_mark(): each
 *                time it runs, the counts since the last mark are written
 *                out, one "MARK <n>" block;
 *   out=FILE     where those blocks go;
 *   stall=US     after each store to a virtio-mmio QueueNotify register
 *                (offset 0x50 of a register block in the window given by
 *                notify_lo and notify_hi), sleep US microseconds in the
 *                vCPU thread, so that QEMU's main loop completes the
 *                request before the guest looks: a polled wait then finds
 *                it at the first look, and its count no longer depends on
 *                the host's timing;
 *   notify_lo=ADDR, notify_hi=ADDR  the virtio-mmio window (hexadecimal).
 *   io=1         also count the guest's register accesses in that window:
 *                every load or store that QEMU routes to a device model
 *                (qemu_plugin_hwaddr_is_io) rather than to RAM, by
 *                direction and register offset (the address modulo 0x200,
 *                the smaller of the two boards' register-block strides).
 *                Each MARK block then ends with "IO <r|w> <offset> <n>"
 *                lines. Under TCG every such access leaves the generated
 *                code for the device model, so it is worth counting apart
 *                from instructions.
 *
 * Counts are inline additions on plain counters: the benchmark machines
 * have one vCPU, so they need no atomics.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

struct sym {
	uint64_t start, end;
	char *name;
};

static struct sym *syms;
static size_t nsyms;
static uint64_t *insns;   /* per symbol, [nsyms] = outside */
static uint64_t *entries; /* times the first instruction ran */
static uint64_t *last_insns, *last_entries;
static uint64_t mark_addr = UINT64_MAX;
static uint64_t notify_lo, notify_hi;
static unsigned stall_us;
static unsigned marks;
static FILE *out;
static int count_io;
/* Register accesses by [store][offset / 4] in a 0x200-byte register block. */
#define IO_SLOTS (0x200 / 4)
static uint64_t io[2][IO_SLOTS], last_io[2][IO_SLOTS];

static int by_start(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int load_syms(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512], name[400];
	size_t cap = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, size;

		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %399s", &start, &size, name) != 3 || !size)
			continue;
		if (nsyms == cap) {
			cap = cap ? cap * 2 : 256;
			syms = realloc(syms, cap * sizeof(*syms));
			if (!syms)
				return -1;
		}
		syms[nsyms].start = start;
		syms[nsyms].end = start + size;
		syms[nsyms].name = strdup(name);
		nsyms++;
	}
	fclose(f);
	qsort(syms, nsyms, sizeof(*syms), by_start);
	return 0;
}

/* Index of the function holding addr, or nsyms. */
static size_t find(uint64_t addr)
{
	size_t lo = 0, hi = nsyms;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < syms[mid].start)
			hi = mid;
		else if (addr >= syms[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return nsyms;
}

static void on_mark(unsigned int vcpu, void *udata)
{
	uint64_t total = 0;

	(void)vcpu;
	(void)udata;
	for (size_t i = 0; i <= nsyms; i++)
		total += insns[i] - last_insns[i];
	fprintf(out, "MARK %u total=%" PRIu64 "\n", marks++, total);
	for (size_t i = 0; i <= nsyms; i++) {
		uint64_t n = insns[i] - last_insns[i], e = entries[i] - last_entries[i];

		if (n)
			fprintf(out, "%" PRIu64 " %" PRIu64 " %s\n", n, e,
				i < nsyms ? syms[i].name : "[outside]");
		last_insns[i] = insns[i];
		last_entries[i] = entries[i];
	}
	for (int w = 0; w < 2; w++)
		for (unsigned r = 0; r < IO_SLOTS; r++) {
			if (io[w][r] != last_io[w][r])
				fprintf(out, "IO %c 0x%03x %" PRIu64 "\n", w ? 'w' : 'r', r * 4,
					io[w][r] - last_io[w][r]);
			last_io[w][r] = io[w][r];
		}
	fflush(out);
}

static void on_store(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
	(void)vcpu;
	(void)udata;
	if (qemu_plugin_mem_is_store(info) && vaddr >= notify_lo && vaddr < notify_hi &&
	    (vaddr & 0x1ff) == 0x50) {
		struct timespec ts = { 0, (long)stall_us * 1000 };

		nanosleep(&ts, NULL);
	}
}

static void on_access(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr,
		      void *udata)
{
	struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
	bool store = qemu_plugin_mem_is_store(info);

	if (hw && qemu_plugin_hwaddr_is_io(hw) && vaddr >= notify_lo && vaddr < notify_hi)
		io[store][(vaddr & 0x1ff) / 4]++;
	if (store && stall_us)
		on_store(vcpu, info, vaddr, udata);
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t va = qemu_plugin_insn_vaddr(insn);
		size_t s = find(va);

		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   &insns[s], 1);
		if (s < nsyms && va == syms[s].start)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &entries[s], 1);
		if (va == mark_addr)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS,
							       NULL);
		if (count_io)
			qemu_plugin_register_vcpu_mem_cb(insn, on_access, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_RW, NULL);
		else if (stall_us)
			qemu_plugin_register_vcpu_mem_cb(insn, on_store, QEMU_PLUGIN_CB_NO_REGS,
							 QEMU_PLUGIN_MEM_W, NULL);
	}
}

static void on_exit_cb(qemu_plugin_id_t id, void *p)
{
	(void)id;
	(void)p;
	if (out && out != stderr)
		fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *out_path = NULL;

	(void)info;
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return -1;
		*eq++ = '\0';
		if (!strcmp(argv[i], "syms")) {
			if (load_syms(eq))
				return -1;
		} else if (!strcmp(argv[i], "mark")) {
			mark_addr = strtoull(eq, NULL, 16);
		} else if (!strcmp(argv[i], "out")) {
			out_path = eq;
		} else if (!strcmp(argv[i], "stall")) {
			stall_us = (unsigned)strtoul(eq, NULL, 0);
		} else if (!strcmp(argv[i], "notify_lo")) {
			notify_lo = strtoull(eq, NULL, 16);
		} else if (!strcmp(argv[i], "notify_hi")) {
			notify_hi = strtoull(eq, NULL, 16);
		} else if (!strcmp(argv[i], "io")) {
			count_io = atoi(eq);
		} else {
			return -1;
		}
	}
	out = out_path ? fopen(out_path, "w") : stderr;
	insns = calloc(nsyms + 1, sizeof(*insns));
	entries = calloc(nsyms + 1, sizeof(*entries));
	last_insns = calloc(nsyms + 1, sizeof(*last_insns));
	last_entries = calloc(nsyms + 1, sizeof(*last_entries));
	if (!out || !insns || !entries || !last_insns || !last_entries)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
	qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
	return 0;
}
