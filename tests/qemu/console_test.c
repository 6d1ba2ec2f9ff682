/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The virtio-console test firmware. The host (test_console.py) boots it
 * with a console device whose ports sit on Unix sockets, waits for READY
 * and names the scenario on the UART:
 *
 *     CASE bulk port=<name, or #0> n=<bytes> seed=<s> slow=<0|1> ack=<0|1>
 *         find the port (by name: wait for the device to add it), wait for
 *         the host to open it, echo one line back (ECHOED <len>), read n
 *         bytes (slow=1: pausing after each read, so the host writes
 *         faster than the guest reads) and print RX n=<n> crc=<crc32>, then
 *         write n bytes of pattern seed (apps/common/pattern.h; ack=1: 4 KiB at
 *         a time, each acknowledged by an 'A' from the host) and print
 *         TX n=<n> crc=<crc32> once the device has taken it all.
 *     CASE ports
 *         print a PORT line whenever a port's state changes (added, removed,
 *         named, opened or closed by the host):
 *             PORT id=<n> present=<0|1> open=<0|1> console=<0|1> name=<name>
 *         and obey the host's UART commands meanwhile: `w <name>` writes
 *         "hello <name>\n" to that port and prints WRITE <name> rc=<n or
 *         error name>; `q` ends the case.
 *
 *     CASE fault
 *         load from address 8, which faults: the board's report goes to the
 *         UART and, through the fault sink the firmware set, to the
 *         console's emergency write (apps/common/console_io.c).
 *
 * First a CON line: CON state=<s> iface=<i> multiport=<0|1> max_nr_ports=<n>
 * emerg=<0|1> bad_ctrl=<n>; at the end PASS/FAIL lines and RESULT (report.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/console.h>
#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "app.h"
#include "board.h"
#include "pattern.h"
#include "report.h"

#define MS 1000000ull
#define CHUNK 4096u

static struct vio_device *dev;
static uint8_t buf[CHUNK];

static const char *errname(int err)
{
	switch (err) {
	case VIO_ENODEV: return "VIO_ENODEV";
	case VIO_ENOTCONN: return "VIO_ENOTCONN";
	case VIO_ETIMEDOUT: return "VIO_ETIMEDOUT";
	case VIO_ESHUTDOWN: return "VIO_ESHUTDOWN";
	case VIO_ERANGE: return "VIO_ERANGE";
	case VIO_EINVAL: return "VIO_EINVAL";
	default: return "VIO_E?";
	}
}

static void nap(uint64_t ns)
{
	uintptr_t irq = board_irq_save();

	board_idle_until(board_time_ns() + ns);
	board_irq_restore(irq);
}

/* One line from the UART (without its end), waiting at most timeout_ns; false on timeout. */
static bool uart_line(char *line, size_t size, uint64_t timeout_ns)
{
	uint64_t end = board_time_ns() + timeout_ns;
	size_t n = 0;

	while (board_time_ns() < end) {
		int c = board_console_getc();

		if (c < 0) {
			vio_service();
			nap(MS);
			continue;
		}
		if (c == '\r' || c == '\n') {
			if (!n)
				continue;
			line[n] = '\0';
			return true;
		}
		if (n + 1 < size)
			line[n++] = (char)c;
	}
	return false;
}

static const char *arg(const char *line, const char *key, char *out, size_t size)
{
	const char *p = strstr(line, key);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return NULL;
	p += strlen(key);
	while (*p && *p != ' ' && n + 1 < size)
		out[n++] = *p++;
	out[n] = '\0';
	return out;
}

/* The port called name ("#0": port 0), waiting for the device to add it. */
static int find_port(const char *name)
{
	uint64_t end = board_time_ns() + 20000 * MS;

	if (name[0] == '#')
		return atoi(name + 1);
	for (;;) {
		int id = vio_console_find(dev, name);

		if (id >= 0 || board_time_ns() > end)
			return id;
		vio_service();
		nap(MS);
	}
}

static bool wait_open(unsigned id)
{
	uint64_t end = board_time_ns() + 20000 * MS;
	struct vio_console_port_info pi;

	while (board_time_ns() < end) {
		if (vio_console_port_info(dev, id, &pi) == 0 && pi.present && pi.host_open)
			return true;
		vio_service();
		nap(MS);
	}
	return false;
}

static void case_bulk(const char *line)
{
	char name[80], v[32];
	uint32_t n, seed, got = 0, crc = 0, len = 0;
	bool slow, ack;
	int id, rc;

	arg(line, "port=", name, sizeof(name));
	n = (uint32_t)strtoul(arg(line, "n=", v, sizeof(v)) ? v : "0", NULL, 0);
	seed = (uint32_t)strtoul(arg(line, "seed=", v, sizeof(v)) ? v : "1", NULL, 0);
	slow = arg(line, "slow=", v, sizeof(v)) && v[0] == '1';
	ack = arg(line, "ack=", v, sizeof(v)) && v[0] == '1';
	id = find_port(name);
	if (id < 0) {
		fail("find", "no port %s: %s", name, vio_strerror(id));
		return;
	}
	printf("FOUND %s id=%d\n", name, id);
	if (!wait_open((unsigned)id)) {
		fail("open", "the host never opened port %d", id);
		return;
	}
	/* Echo one line. */
	while (len < sizeof(buf)) {
		rc = vio_console_read(dev, (unsigned)id, buf + len, 1, 20000 * MS);
		if (rc <= 0) {
			fail("echo", "read: %s", vio_strerror(rc));
			return;
		}
		if (buf[len++] == '\n')
			break;
	}
	rc = vio_console_write(dev, (unsigned)id, buf, len);
	printf("ECHOED %u\n", (unsigned)len);
	if (rc != (int)len)
		fail("echo", "write returned %d", rc);
	/* Host to guest. */
	while (got < n) {
		rc = vio_console_read(dev, (unsigned)id, buf, n - got < CHUNK ? n - got : CHUNK,
				      20000 * MS);
		if (rc <= 0) {
			fail("rx", "read after %u bytes: %s", (unsigned)got, vio_strerror(rc));
			break;
		}
		crc = pattern_crc32(crc, buf, (size_t)rc);
		got += (uint32_t)rc;
		if (slow)
			nap(MS / 5);
	}
	printf("RX n=%u crc=%08x\n", (unsigned)got, (unsigned)crc);
	/* Guest to host, as fast as the driver takes it. */
	crc = 0;
	for (uint32_t off = 0; off < n;) {
		uint32_t k = n - off < CHUNK ? n - off : CHUNK;

		pattern_fill(seed, off, buf, k);
		rc = vio_console_write(dev, (unsigned)id, buf, k);
		if (rc <= 0) {
			fail("tx", "write at %u: %s", (unsigned)off, vio_strerror(rc));
			break;
		}
		crc = pattern_crc32(crc, buf, (size_t)rc);
		off += (uint32_t)rc;
		got = off;
		if (ack && (vio_console_read(dev, (unsigned)id, buf, 1, 20000 * MS) != 1 ||
			    buf[0] != 'A')) {
			fail("tx", "no acknowledgement after %u bytes", (unsigned)off);
			break;
		}
	}
	/* Everything out before the firmware ends QEMU. */
	rc = vio_console_drain(dev, (unsigned)id, 30000 * MS);
	if (rc)
		fail("drain", "%s", vio_strerror(rc));
	printf("TX n=%u crc=%08x\n", (unsigned)got, (unsigned)crc);
	pass("bulk");
}

static void case_ports(void)
{
	struct vio_console_info info;
	static struct vio_console_port_info last[VIO_CONSOLE_PORTS_LIMIT];
	char line[100];
	size_t n = 0;

	vio_console_get_info(dev, &info);
	for (;;) {
		int c;

		vio_service();
		for (unsigned i = 0; i < info.ports; i++) {
			struct vio_console_port_info pi;

			if (vio_console_port_info(dev, i, &pi))
				continue;
			if (pi.present == last[i].present && pi.host_open == last[i].host_open &&
			    pi.console == last[i].console && strcmp(pi.name, last[i].name) == 0)
				continue;
			last[i] = pi;
			printf("PORT id=%u present=%d open=%d console=%d name=%s\n", i, pi.present,
			       pi.host_open, pi.console, pi.name[0] ? pi.name : "-");
		}
		c = board_console_getc();
		if (c < 0) {
			nap(MS);
			continue;
		}
		if (c != '\r' && c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = (char)c;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (strcmp(line, "q") == 0)
			break;
		if (strncmp(line, "w ", 2) == 0) {
			char msg[100];
			int id = vio_console_find(dev, line + 2), rc = id;
			int len = snprintf(msg, sizeof(msg), "hello %s\n", line + 2);

			if (id >= 0)
				rc = vio_console_write(dev, (unsigned)id, msg, (size_t)len);
			if (rc >= 0)
				printf("WRITE %s rc=%d\n", line + 2, rc);
			else
				printf("WRITE %s rc=%s\n", line + 2, errname(rc));
		}
	}
	vio_console_get_info(dev, &info);
	printf("CON bad_ctrl=%u\n", (unsigned)info.bad_ctrl);
	pass("ports");
}

/* A load nobody answers: the board's fault report must also leave by emergency write. */
static void case_fault(void)
{
	volatile uintptr_t addr = 8;

	printf("FAULT loading from %p\n", (void *)addr);
	printf("read %u (the board failed to trap)\n", (unsigned)*(volatile uint32_t *)addr);
}

int main(void)
{
	struct vio_console_info info = { 0 };
	char line[160];

	app_vio_start();
	dev = vio_dev_find(VIRTIO_ID_CONSOLE, 0);
	if (vio_console_get_info(dev, &info)) {
		fail("probe", "no live console device");
		report_finish();
	}
	printf("CON state=%d iface=%s multiport=%d max_nr_ports=%u emerg=%d bad_ctrl=%u\n",
	       (int)vio_dev_state(dev), vio_dev_interface(dev), info.multiport,
	       (unsigned)info.max_nr_ports, info.emerg_write, (unsigned)info.bad_ctrl);
	printf("READY\n");
	if (!uart_line(line, sizeof(line), 30000 * MS)) {
		fail("case", "no CASE line from the host");
		report_finish();
	}
	if (strncmp(line, "CASE bulk", 9) == 0)
		case_bulk(line);
	else if (strcmp(line, "CASE ports") == 0)
		case_ports();
	else if (strcmp(line, "CASE fault") == 0)
		case_fault();
	else
		fail("case", "unknown '%s'", line);
	report_finish();
}
