/* SPDX-License-Identifier: Apache-2.0 */
/* Console port commands: console list, cat, write, echo. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vio/console.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"

#include "board.h"
#include "line.h"
#include "shell.h"

#if CONFIG_VIO_DRIVER_CONSOLE

#define MS 1000000ull

static struct vio_device *console_dev(void)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_CONSOLE, 0);

	if (!dev) {
		printf("console: no virtio-console device\n");
		return NULL;
	}
	if (vio_console_check(dev)) {
		printf("console: %s is not ready: %s\n", dev->name, vio_strerror(dev->error));
		return NULL;
	}
	return dev;
}

/* A port by name, or by number (a port without a name, such as port 0 of a plain console). */
static int port_of(struct vio_device *dev, const char *name)
{
	char *end;
	unsigned long n = strtoul(name, &end, 10);
	int id = vio_console_find(dev, name);

	if (id < 0 && *name && !*end)
		id = (int)n;
	if (id < 0)
		printf("console: no port '%s'\n", name);
	return id;
}

static int cmd_list(struct vio_device *dev)
{
	struct vio_console_info info;

	vio_console_get_info(dev, &info);
	printf("%s: %s, %u of %u ports tracked, emergency write %s, %u control messages "
	       "(%u refused)\n", dev->name, info.multiport ? "multiport" : "single port",
	       info.ports, (unsigned)info.max_nr_ports, info.emerg_write ? "yes" : "no",
	       (unsigned)info.ctrl_msgs, (unsigned)info.bad_ctrl);
	for (unsigned i = 0; i < info.ports; i++) {
		struct vio_console_port_info pi;

		if (vio_console_port_info(dev, i, &pi) || !pi.present)
			continue;
		printf("  port %-2u %-24s %-6s %s", i, pi.name[0] ? pi.name : "-",
		       pi.host_open ? "open" : "closed", pi.console ? "console" : "serial");
		if (pi.cols || pi.rows)
			printf(" %ux%u", pi.cols, pi.rows);
		printf(" rx %llu tx %llu\n", (unsigned long long)pi.rx_bytes,
		       (unsigned long long)pi.tx_bytes);
	}
	return 0;
}

/* Print (and with echo, send back) what arrives on port until a key on the UART. */
static int pump(struct vio_device *dev, int id, bool echo)
{
	char buf[256];

	printf("(any key on the UART stops)\n");
	fflush(stdout);
	while (board_console_getc() < 0) {
		int n = vio_console_read(dev, (unsigned)id, buf, sizeof(buf), 20 * MS);

		if (n == VIO_ETIMEDOUT)
			continue;
		if (n < 0) {
			printf("\nconsole: %s\n", vio_strerror(n));
			return 1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		if (echo && vio_console_write(dev, (unsigned)id, buf, (size_t)n) < 0)
			printf("\nconsole: echo lost: the port is closed\n");
	}
	putchar('\n');
	return 0;
}

void shell_console_ports(struct line *l)
{
	struct vio_device *dev = vio_dev_find(VIRTIO_ID_CONSOLE, 0);
	struct vio_console_info info;

	if (!dev || vio_console_check(dev))
		return;
	vio_console_get_info(dev, &info);
	for (unsigned i = 0; i < info.ports; i++) {
		struct vio_console_port_info pi;

		if (!vio_console_port_info(dev, i, &pi) && pi.present && pi.name[0])
			line_offer(l, pi.name);
	}
}

static int cmd_console(int argc, char **argv)
{
	struct vio_device *dev;
	int id, rc;

	if (argc < 2)
		return shell_usage("console list | cat NAME | write NAME TEXT... | echo NAME");
	dev = console_dev();
	if (!dev)
		return 1;
	if (!strcmp(argv[1], "list"))
		return cmd_list(dev);
	if (argc < 3 || (!strcmp(argv[1], "write") && argc < 4)) {
		printf("console %s: which port?\n", argv[1]);
		return 1;
	}
	id = port_of(dev, argv[2]);
	if (id < 0)
		return 1;
	if (!strcmp(argv[1], "cat"))
		return pump(dev, id, false);
	if (!strcmp(argv[1], "echo"))
		return pump(dev, id, true);
	if (strcmp(argv[1], "write")) {
		printf("console: unknown subcommand '%s'; 'help console' lists them\n", argv[1]);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		rc = vio_console_write(dev, (unsigned)id, argv[i], strlen(argv[i]));
		if (rc >= 0)
			rc = vio_console_write(dev, (unsigned)id, i + 1 < argc ? " " : "\n", 1);
		if (rc < 0) {
			printf("console: port %d: %s\n", id, vio_strerror(rc));
			return 1;
		}
	}
	return 0;
}

const struct shell_cmd shell_console_cmds[] = {
	{ "console", "SUBCMD ...",
	  "virtio-console ports: list, cat NAME, write NAME TEXT, echo NAME", cmd_console,
	  "list cat write echo" },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
