/* SPDX-License-Identifier: Apache-2.0 */
/* Input device commands: input list, watch, leds. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <vio/error.h>
#include <vio/input.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "vio_config.h"

#include "board.h"
#include "shell.h"

#if CONFIG_VIO_DRIVER_INPUT

static const char *type_name(unsigned type)
{
	switch (type) {
	case EV_SYN: return "EV_SYN";
	case EV_KEY: return "EV_KEY";
	case EV_REL: return "EV_REL";
	case EV_ABS: return "EV_ABS";
	case EV_MSC: return "EV_MSC";
	case EV_SW: return "EV_SW";
	case EV_LED: return "EV_LED";
	case EV_SND: return "EV_SND";
	case EV_REP: return "EV_REP";
	case EV_FF: return "EV_FF";
	default: return NULL;
	}
}

/* The codes set in a bitmap of size bytes, as ranges: "0-1,8". */
static void print_codes(const uint8_t *bits, unsigned size)
{
	bool first = true;
	unsigned c = 0, n = size * 8;

	while (c < n) {
		unsigned end;

		if (!((bits[c / 8] >> (c % 8)) & 1u)) {
			c++;
			continue;
		}
		for (end = c; end + 1 < n && ((bits[(end + 1) / 8] >> ((end + 1) % 8)) & 1u); end++)
			;
		printf(first ? "%u" : ",%u", c);
		if (end > c)
			printf("-%u", end);
		first = false;
		c = end + 1;
	}
	if (first)
		printf("none");
}

static void list_one(struct vio_device *dev)
{
	static uint8_t bits[VIO_INPUT_CODES / 8];
	struct vio_input_info info;
	struct vio_input_absinfo abs;

	if (vio_input_get_info(dev, &info)) {
		printf("%s: not ready: %s\n", dev->name, vio_strerror(dev->error));
		return;
	}
	printf("%s: %s \"%s\" serial \"%s\" %s\n", dev->name, vio_input_kind_name(info.kind),
	       info.name, info.serial, vio_dev_interface(dev));
	if (info.have_ids)
		printf("  ids bus %#06x vendor %#06x product %#06x version %#06x\n", info.bustype,
		       info.vendor, info.product, info.version);
	printf("  props %#x\n", (unsigned)info.props);
	for (unsigned t = 1; t < VIO_INPUT_TYPES; t++) {
		const char *name = type_name(t);
		int size = vio_input_bits(dev, t, bits, sizeof(bits));

		if (size <= 0)
			continue;
		if (name)
			printf("  %s ", name);
		else
			printf("  type %u ", t);
		print_codes(bits, (unsigned)size);
		putchar('\n');
	}
	for (unsigned a = 0; a < VIO_INPUT_AXES; a++) {
		if (vio_input_abs(dev, a, &abs))
			continue;
		printf("  axis %u min %ld max %ld fuzz %ld flat %ld res %ld\n", a, (long)abs.min,
		       (long)abs.max, (long)abs.fuzz, (long)abs.flat, (long)abs.res);
	}
	if (info.mt_slots)
		printf("  multi-touch slots %u\n", info.mt_slots);
	printf("  events %llu groups %llu dropped %llu (%llu groups) bad %llu\n",
	       (unsigned long long)info.events, (unsigned long long)info.groups,
	       (unsigned long long)info.dropped_events, (unsigned long long)info.dropped_groups,
	       (unsigned long long)info.bad_events);
}

static int cmd_list(void)
{
	unsigned n = 0;
	struct vio_device *dev;

	while ((dev = vio_dev_find(VIRTIO_ID_INPUT, n)) != NULL) {
		list_one(dev);
		n++;
	}
	if (!n)
		printf("input: no virtio-input device\n");
	return 0;
}

/* Print every event of every input device until a key on the UART. */
static int cmd_watch(void)
{
	static struct vio_input_event ev[32];

	printf("(any key on the UART stops)\n");
	fflush(stdout);
	while (board_console_getc() < 0) {
		struct vio_device *dev;

		/* Sleep until some device interrupts, at most 10 ms, to look at the UART. */
		vio_service_wait(10000000ull);
		vio_service();
		for (unsigned i = 0; (dev = vio_dev_find(VIRTIO_ID_INPUT, i)) != NULL; i++) {
			int n;

			if (vio_input_check(dev))
				continue;
			while ((n = vio_input_read_nonblock(dev, ev, 32)) > 0) {
				for (int k = 0; k < n; k++) {
					const char *name = type_name(ev[k].type);

					if (name)
						printf("%s %s %u %ld\n", dev->name, name,
						       ev[k].code, (long)ev[k].value);
					else
						printf("%s type %u %u %ld\n", dev->name, ev[k].type,
						       ev[k].code, (long)ev[k].value);
				}
			}
		}
		fflush(stdout);
	}
	return 0;
}

/* input leds [num] [caps] [scroll] | off: on every device with LEDs. */
static int cmd_leds(int argc, char **argv)
{
	uint32_t leds = 0;
	unsigned done = 0;
	struct vio_device *dev;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "num"))
			leds |= VIO_INPUT_LED_NUM;
		else if (!strcmp(argv[i], "caps"))
			leds |= VIO_INPUT_LED_CAPS;
		else if (!strcmp(argv[i], "scroll"))
			leds |= VIO_INPUT_LED_SCROLL;
		else if (strcmp(argv[i], "off")) {
			printf("input leds: unknown LED '%s' (num, caps, scroll, off)\n", argv[i]);
			return 1;
		}
	}
	for (unsigned i = 0; (dev = vio_dev_find(VIRTIO_ID_INPUT, i)) != NULL; i++) {
		int rc;

		if (!vio_input_has(dev, EV_LED, -1))
			continue;
		rc = vio_input_set_leds(dev, leds);
		if (rc < 0) {
			printf("%s: %s\n", dev->name, vio_strerror(rc));
			return 1;
		}
		printf("%s: leds %#x, %d changed\n", dev->name, (unsigned)leds, rc);
		done++;
	}
	if (!done) {
		printf("input: no device with LEDs\n");
		return 1;
	}
	return 0;
}

static int cmd_input(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return cmd_list();
	if (argc >= 2 && !strcmp(argv[1], "watch"))
		return cmd_watch();
	if (argc >= 3 && !strcmp(argv[1], "leds"))
		return cmd_leds(argc, argv);
	return shell_usage("input list | watch | leds num|caps|scroll|off...");
}

const struct shell_cmd shell_input_cmds[] = {
	{ "input", "SUBCMD ...",
	  "virtio-input devices: list, watch (until a key), leds num|caps|scroll|off", cmd_input,
	  "list watch leds" },
	{ NULL, NULL, NULL, NULL, NULL },
};

#endif
