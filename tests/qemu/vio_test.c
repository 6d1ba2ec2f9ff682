/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The on-target test firmware. It brings vio up on the board, prints the
 * device table in a form the host checks against what it attached:
 *
 *     DEV slot=<n> type=<name> iface=<legacy|modern> state=<s> features=<hex> name=<dev>
 *
 * runs its checks, one line each (PASS <name> / FAIL <name>: <why>), prints
 * the first 32 bytes each rng delivered (RNG <index> <hex>) so the host can
 * compare them with what it fed QEMU, and ends with exactly one line
 *
 *     RESULT: <passed> passed, <failed> failed
 *
 * before leaving QEMU with status 1 if anything failed, else 0.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vio/device.h>
#include <vio/error.h>
#include <vio/spec/virtio_config.h>

#include "vio_config.h"
#if CONFIG_VIO_DRIVER_RNG
#include <vio/rng.h>
#endif

#include "app.h"
#include "board.h"
#include "report.h"

#define MS 1000000ull
#define TIMEOUT_NS ((uint64_t)CONFIG_VIO_TIMEOUT_MS * MS)



static const char *state_name(enum vio_dev_state s)
{
	switch (s) {
	case VIO_DEV_READY:
		return "ready";
	case VIO_DEV_NO_DRIVER:
		return "nodriver";
	case VIO_DEV_REFUSED:
		return "refused";
	case VIO_DEV_FAILED:
		return "failed";
	default:
		return "empty";
	}
}

static void print_table(void)
{
	for (unsigned i = 0; i < vio_dev_count(); i++) {
		const struct vio_device *dev = vio_dev_at(i);

		printf("DEV slot=%d type=%s iface=%s state=%s features=%#llx name=%s\n", dev->slot,
		       vio_dev_type_name(dev->t.device_id), vio_dev_interface(dev),
		       state_name(vio_dev_state(dev)), (unsigned long long)dev->negotiated, dev->name);
	}
}

/* Whether this build drives the device's interface (CONFIG_VIO_IFACE_*). */
static bool iface_built(const struct vio_device *dev)
{
#if CONFIG_VIO_IFACE_LEGACY
	return dev->t.legacy;
#elif CONFIG_VIO_IFACE_MODERN
	return !dev->t.legacy;
#else
	(void)dev;
	return true;
#endif
}

/* Whether this build has a driver for the device id (the drivers app_vio_start registers). */
static bool has_driver(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_RNG:
		return CONFIG_VIO_DRIVER_RNG;
	case VIRTIO_ID_BLOCK:
		return CONFIG_VIO_DRIVER_BLK;
	case VIRTIO_ID_NET:
		return CONFIG_VIO_DRIVER_NET;
	case VIRTIO_ID_INPUT:
		return CONFIG_VIO_DRIVER_INPUT;
	case VIRTIO_ID_CONSOLE:
		return CONFIG_VIO_DRIVER_CONSOLE;
	case VIRTIO_ID_GPU:
		return CONFIG_VIO_DRIVER_GPU;
	default:
		return false;
	}
}

static void check_timer(void)
{
	uint64_t t0 = board_time_ns(), prev = t0, t;
	uint64_t port_t;
	bool back = false;

	for (unsigned i = 0; i < 10000; i++) {
		t = board_time_ns();
		back |= t < prev;
		prev = t;
	}
	if (back)
		fail("timer-monotonic", "board_time_ns went backwards");
	else if (prev == t0)
		fail("timer-monotonic", "board_time_ns does not advance");
	else
		pass("timer-monotonic");

	/* Sleep 5 ms the way the bare-metal port waits: masked, idle until a deadline. */
	t0 = board_time_ns();
	do {
		uintptr_t s = board_irq_save();

		board_idle_until(t0 + 5 * MS);
		board_irq_restore(s);
		t = board_time_ns();
	} while (t < t0 + 5 * MS && t - t0 < 1000 * MS);
	if (t - t0 < 5 * MS || t - t0 >= 500 * MS)
		fail("timer-idle", "5 ms idle took %llu us", (unsigned long long)(t - t0) / 1000);
	else
		pass("timer-idle");

	port_t = vio_port()->time_ns(vio_port()->ctx);
	t = board_time_ns();
	if (port_t > t || t - port_t > 100 * MS)
		fail("timer-port", "port clock %llu ns, board clock %llu ns",
		     (unsigned long long)port_t, (unsigned long long)t);
	else
		pass("timer-port");
}

/* The state the device is in must be the one this build implies. */
static void check_state(const struct vio_device *dev)
{
	bool iface_ok = iface_built(dev);
	bool drv = has_driver(dev->t.device_id);
	char name[32];

	snprintf(name, sizeof(name), "dev%d-state", dev->slot);
	switch (vio_dev_state(dev)) {
	case VIO_DEV_READY:
		if (!iface_ok)
			fail(name, "%s is ready, but this build leaves its interface out",
			     dev->name);
		else if (!drv)
			fail(name, "%s is ready, but this build has no driver for it", dev->name);
		else
			pass(name);
		break;
	case VIO_DEV_NO_DRIVER:
		if (!iface_ok)
			fail(name, "%s has no driver, but this build leaves its interface out",
			     dev->name);
		else if (drv)
			fail(name, "%s has no driver, but one is registered", dev->name);
		else
			pass(name);
		break;
	case VIO_DEV_REFUSED:
		/*
		 * A build refuses the interface it leaves out; a driver may refuse
		 * an interface it cannot drive. Both say VIO_ENOTSUP.
		 */
		if (dev->error != VIO_ENOTSUP || (iface_ok && !drv))
			fail(name, "%s refused: %s", dev->name, vio_strerror(dev->error));
		else
			pass(name);
		break;
	case VIO_DEV_FAILED:
		fail(name, "%s failed: %s", dev->name, vio_strerror(dev->error));
		break;
	default:
		fail(name, "empty entry in the device table");
		break;
	}
}

/* What a ready device negotiated, and how it completes. */
static void check_ready(const struct vio_device *dev)
{
	bool want_irq = !CONFIG_VIO_COMPLETION_POLL && dev->irq >= 0;
	char name[32];

	/* 6.1: a modern device must negotiate VERSION_1; a legacy one cannot. */
	snprintf(name, sizeof(name), "dev%d-features", dev->slot);
	if (vio_dev_has(dev, VIRTIO_F_VERSION_1) == dev->t.legacy)
		fail(name, "%s interface with VERSION_1 %snegotiated", vio_dev_interface(dev),
		     dev->t.legacy ? "" : "not ");
	else if (dev->negotiated & ~dev->offered)
		fail(name, "negotiated %#llx beyond offered %#llx",
		     (unsigned long long)dev->negotiated, (unsigned long long)dev->offered);
	else
		pass(name);

	snprintf(name, sizeof(name), "dev%d-completion", dev->slot);
	if (vio_dev_uses_irq(dev) != want_irq)
		fail(name, "%s completion, want %s", vio_dev_uses_irq(dev) ? "irq" : "polled",
		     want_irq ? "irq" : "polled");
	else
		pass(name);
}

static void check_devices(int added)
{
	if (added < 0 || (unsigned)added != vio_dev_count())
		fail("start", "app_vio_start returned %d, table has %u", added, vio_dev_count());
	else
		pass("start");

	for (unsigned i = 0; i < vio_dev_count(); i++) {
		const struct vio_device *dev = vio_dev_at(i);

		check_state(dev);
		if (vio_dev_state(dev) == VIO_DEV_READY)
			check_ready(dev);
	}
}

#if CONFIG_VIO_DRIVER_RNG
static bool all_equal(const uint8_t *b, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (b[i] != b[0])
			return false;
	return true;
}

static void check_read(struct vio_device *dev, unsigned idx, uint8_t *buf, size_t len)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "rng%u-read%u", idx, (unsigned)len);
	memset(buf, 0, len);
	r = vio_rng_read(dev, buf, len, TIMEOUT_NS);
	if (r != (int)len) {
		fail(name, "returned %d (%s)", r, r < 0 ? vio_strerror(r) : "short");
		return;
	}
	if (all_equal(buf, len)) {
		fail(name, "all %u bytes are %#x", (unsigned)len, buf[0]);
		return;
	}
	pass(name);
	if (len == 64) {
		printf("RNG %u ", idx);
		for (unsigned i = 0; i < 32; i++)
			printf("%02x", buf[i]);
		putchar('\n');
	}
}

static void check_rng(struct vio_device *dev, unsigned idx)
{
	static uint8_t buf[4096];
	char name[32];
	uint64_t t0, t;
	int r;

	check_read(dev, idx, buf, 64);
	check_read(dev, idx, buf, 4096);

	/* Nonblocking: VIO_EAGAIN until the device has delivered, then data. */
	snprintf(name, sizeof(name), "rng%u-nonblock", idx);
	t0 = board_time_ns();
	do {
		r = vio_rng_read_nonblock(dev, buf, 64);
		t = board_time_ns();
	} while (r == VIO_EAGAIN && t - t0 < TIMEOUT_NS);
	if (r > 0 && r <= 64)
		pass(name);
	else if (r > 64)
		fail(name, "returned %d for a 64-byte buffer", r);
	else
		fail(name, "%s after %llu ms", vio_strerror(r), (unsigned long long)(t - t0) / MS);

	/* A timeout too short to wait for anything: data or VIO_ETIMEDOUT, quickly. */
	snprintf(name, sizeof(name), "rng%u-short-timeout", idx);
	t0 = board_time_ns();
	r = vio_rng_read(dev, buf, sizeof(buf), 1000);
	t = board_time_ns();
	if (r != (int)sizeof(buf) && r != VIO_ETIMEDOUT)
		fail(name, "returned %d (%s)", r, vio_strerror(r));
	else if (t - t0 > 500 * MS)
		fail(name, "a 1 us timeout took %llu ms", (unsigned long long)(t - t0) / MS);
	else
		pass(name);

	/* The device must still serve reads after a timed-out one. */
	snprintf(name, sizeof(name), "rng%u-after-timeout", idx);
	r = vio_rng_read(dev, buf, 64, TIMEOUT_NS);
	if (r != 64)
		fail(name, "returned %d (%s)", r, r < 0 ? vio_strerror(r) : "short");
	else
		pass(name);
}

static void check_rngs(void)
{
	unsigned idx = 0;
	uint8_t b[4];
	int r;

	for (;; idx++) {
		struct vio_device *dev = vio_dev_find(VIRTIO_ID_RNG, idx);

		if (!dev)
			break;
		if (vio_dev_state(dev) == VIO_DEV_READY)
			check_rng(dev, idx);
	}

	/* The rng calls must turn away a device that is not a live rng. */
	for (unsigned i = 0; i < vio_dev_count(); i++) {
		struct vio_device *dev = vio_dev_at(i);

		if (dev->t.device_id == VIRTIO_ID_RNG && vio_dev_state(dev) == VIO_DEV_READY)
			continue;
		r = vio_rng_read(dev, b, sizeof(b), TIMEOUT_NS);
		if (r != VIO_ENODEV)
			fail("rng-wrong-device", "vio_rng_read on %s returned %d", dev->name, r);
		else
			pass("rng-wrong-device");
		break;
	}
}
#endif

/*
 * How each device interrupted, and how often: the runner checks the mode
 * it asked QEMU for (--expect-irq) and that interrupts really came.
 */
static void print_irqs(void)
{
	for (unsigned i = 0; i < vio_dev_count(); i++) {
		const struct vio_device *dev = vio_dev_at(i);

		printf("IRQ slot=%d mode=%s vectors=%u count=%u\n", dev->slot,
		       vio_dev_irq_mode_name(dev), (unsigned)dev->nvectors,
		       (unsigned)__atomic_load_n(&dev->irq_count, __ATOMIC_RELAXED));
	}
}

int main(void)
{
	int added;

	printf("vio-test on %s\n", board_info()->name);
	added = app_vio_start();
	print_table();
	check_timer();
	check_devices(added);
#if CONFIG_VIO_DRIVER_RNG
	check_rngs();
#endif
	print_irqs();
	report_finish();
}
