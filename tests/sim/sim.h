/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulated device side of virtio-mmio for host tests.
 *
 * The host build (VIO_HOST_SIM) routes every register access of the library
 * to vio_host_mmio_read/write, implemented here: a table of simulated devices
 * at fake base addresses (SIM_BASE + slot * SIM_STRIDE, never dereferenced)
 * with the register file of virtio-mmio version 2 (VirtIO 1.2 section 4.2.2)
 * or the legacy version 1 (section 4.2.4). Ring addresses the driver hands
 * over are host pointers (the test port's virt_to_dma is the identity). On a
 * non-coherent test port (sim_cache.h) the device reaches them, and every
 * buffer of a chain, through its own view of memory, which the library
 * keeps up to date with the port's cache hooks; models need not care: the
 * buffers of a chain they get are that view.
 *
 * Nothing runs by itself: sim_step() plays the device side of the split
 * rings (section 2.7) for everything the driver made available, and the
 * test decides when that happens (directly, or through the test port's
 * event_wait and time_ns, see sim_port.h). No threads, no timing: every run
 * is the same. The one exception is the POSIX-threads port
 * (sim_pthread_port.h), which runs sim_step in a device thread of its own
 * and serializes every entry into the simulator with a lock
 * (sim_set_threads); the simulator itself stays single-threaded code.
 *
 * The simulator checks the driver as a strict device would: register widths
 * and directions, the status sequence of section 3.1.1, feature acceptance,
 * queue set-up, ring placement inside DMA memory, descriptor chains (bounds,
 * loops, readable after writable). Every violation is a "driver error": it
 * is printed, counted (sim_errors) and the offending operation is ignored,
 * so a library bug shows up as a failed test, never as a crash of the
 * simulator.
 *
 * Every field of struct sim_dev marked "knob" may be set by a test at any
 * time to make the device misbehave; fields marked "observed" record what
 * the driver did.
 */
#ifndef VIO_SIM_H
#define VIO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_BASE 0x10001000u
#define SIM_STRIDE 0x1000u
#define SIM_MAX_DEVS 16
#define SIM_MAX_QUEUES 64 /* a multiport console with 31 ports needs 64 */
#define SIM_CONFIG_MAX 256
#define SIM_STATUS_LOG 32
#define SIM_REGS (0x100 / 4)

/* Returned by a model's handle(): keep the chain and ask again on a later step. */
#define SIM_HOLD (-1)

struct sim_dev;

/*
 * Offer VIRTIO_F_RING_PACKED on every modern device besides its own
 * features (set from the environment variable VIO_SIM_PACKED at every
 * sim_reset_all, so one test program runs its cases on either layout).
 */
extern bool sim_offer_packed;

/* One segment of a descriptor chain, as the device sees it. */
struct sim_seg {
	void *buf;
	uint32_t len;
};

/* A descriptor chain: device-readable segments first, then writable ones. */
struct sim_chain {
	uint16_t head;
	unsigned nout;
	unsigned nin;
	struct sim_seg *out;
	struct sim_seg *in;
	uint32_t out_len; /* bytes in the readable segments */
	uint32_t in_len;  /* bytes in the writable segments */
};

/* What a device type does with its requests. */
struct sim_model {
	const char *name;
	/*
	 * Serve one chain of queue q. Return the bytes written into the
	 * writable segments (at most chain->in_len), or SIM_HOLD to leave the
	 * chain pending; it is offered again at every later sim_step, in the
	 * order it arrived.
	 */
	int (*handle)(struct sim_dev *dev, unsigned q, const struct sim_chain *chain);
	/* The driver reset the device. Optional. */
	void (*reset)(struct sim_dev *dev);
	/* The driver wrote config space (already stored). Optional. */
	void (*config_write)(struct sim_dev *dev, unsigned off, unsigned width);
};

/* Used-ring misbehaviour for the next completion (or every one, if sticky). */
enum sim_evil {
	SIM_EVIL_NONE = 0,
	SIM_EVIL_ID_RANGE,    /* used id beyond the queue size */
	SIM_EVIL_ID_TWICE,    /* the id of the previous completion again (not in flight) */
	SIM_EVIL_EXTRA,       /* a second used entry for the chain: more used than available */
	SIM_EVIL_ID_FREE,     /* used id of a descriptor that is not a chain in flight */
	SIM_EVIL_LEN,         /* used length larger than the writable space offered */
	SIM_EVIL_IDX_JUMP,    /* used->idx runs ahead by more than the queue size */
};

struct sim_queue {
	uint32_t num_max;       /* knob: QueueNumMax (0: no such queue) */
	uint32_t num;           /* QueueNum as written */
	bool ready;             /* modern QueueReady / legacy PFN != 0 */
	uint32_t pfn;           /* legacy QueuePFN */
	uint32_t align;         /* legacy QueueAlign */
	uint64_t desc, driver, device;

	uint16_t last_avail;    /* next avail entry the device reads */
	uint16_t used_idx;      /* the device's used index */
	uint32_t last_id;       /* id of the last completion */
	uint16_t *held;         /* heads of chains the model holds (num entries) */
	unsigned nheld;
	struct sim_seg *segs;   /* scratch for chain walking (num entries) */
	uint16_t *didx;         /* scratch: descriptor indices of the chain walked */
	uint8_t *busy;          /* descriptors of held chains (the device owns them) */
	bool broken;            /* the device gave up on this queue (driver error) */
	int disable_left;       /* QueueReady reads that still show 1 (-1: until a reset) */
	bool disabling;         /* QueueReady 0 written, not yet shown: the device still runs it */
	bool race_armed;        /* the driver stored used_event (see race_used_event) */

	/* packed ring (2.8): last_avail and used_idx are ring positions then */
	bool packed;            /* VIRTIO_F_RING_PACKED was negotiated when it went live */
	bool avail_wrap;        /* the wrap counter that goes with last_avail */
	bool used_wrap;         /* the device's wrap counter (2.8.1) */
	/*
	 * Ring positions the used index has moved, free-running. A step can
	 * go round the ring more than once (the driver, on another thread,
	 * takes used buffers back and posts new ones while the device works),
	 * so position and wrap alone cannot say how many were used.
	 */
	uint32_t used_moved;
	uint16_t *id_ndesc;     /* ring descriptors of each buffer id the device holds */
	struct sim_chain *pheld; /* snapshots of held chains, by buffer id */

	/* observed */
	unsigned notifies;      /* QueueNotify writes */
	unsigned completed;     /* used entries written */
	unsigned irqs;          /* interrupts raised for this queue */
	unsigned irqs_suppressed; /* interrupts the driver asked not to get */
	unsigned max_chain;     /* longest chain seen (descriptors) */
};

struct sim_dev {
	bool used;              /* table slot taken */
	int slot;
	uintptr_t base;
	int irq;                /* knob: the line raised (default slot + 1) */

	/* identity: knobs */
	uint32_t magic;         /* default VIRTIO_MMIO_MAGIC */
	uint32_t version;       /* 1 legacy, 2 modern, anything else to test refusal */
	uint32_t device_id;
	uint32_t vendor_id;
	uint64_t features;      /* offered; legacy devices show the low 32 bits */

	/* register state */
	uint32_t dev_feat_sel;
	uint32_t drv_feat_sel;
	uint64_t driver_features;
	uint32_t guest_page_size;
	uint32_t queue_sel;
	struct sim_queue q[SIM_MAX_QUEUES]; /* a queue exists when its num_max is set */
	uint8_t status;
	uint32_t int_status;
	uint32_t config_gen;
	uint8_t config[SIM_CONFIG_MAX];
	unsigned config_size;   /* knob */

	const struct sim_model *model;
	void *model_ctx;

	/* misbehaviour knobs */
	bool refuse_features_ok;   /* FEATURES_OK is never accepted */
	int reset_delay;           /* status reads that still show the old value after a
				    * reset; -1: reset never completes */
	int config_gen_changes;    /* the next N reads of ConfigGeneration each show a new
				    * value; -1: it changes on every read */
	int config_changes;        /* the next N config reads each return different bytes
				    * (no generation on legacy); -1: every read */
	uint16_t used_flags;       /* written to used->flags at every step */
	int avail_event;           /* event index: -1 device keeps it current, else fixed */
	bool irq_always;           /* interrupt after every step that used buffers */
	enum sim_evil evil;        /* next completion misbehaves */
	bool evil_sticky;          /* ... and every one after it */
	bool bypass;               /* process queues whatever the status (ring-only tests) */
	int queue_ready_lag;       /* after a QueueReady 0 write, the next N reads of it still
				    * show 1 and the device keeps using the queue meanwhile;
				    * -1: only a reset stops the queue */
	bool keeps_running;        /* like QEMU: FAILED does not stop the device, it goes on
				    * serving (held) requests; only a reset makes it drop them */
	bool race_used_event;      /* 2.7.10: right after the driver stored a queue's used_event,
				    * its next load of that queue's used index lets the device
				    * run (sim_step), as a device on another CPU would in that
				    * window; with the store buffer (sim_store_buffer) this is
				    * the race a missing full barrier loses */

	/* observed */
	uint8_t status_log[SIM_STATUS_LOG]; /* every status write, in order */
	unsigned nstatus_log;
	bool features_ok_reread;   /* status was read back after FEATURES_OK was written */
	unsigned resets;           /* writes of 0 to the status */
	unsigned irqs;             /* interrupts raised */
	unsigned reads[SIM_REGS];  /* register reads by offset / 4 */
	unsigned writes[SIM_REGS]; /* register writes by offset / 4 */
	uint32_t last_write[SIM_REGS];
	unsigned bad_id0_accesses; /* registers touched while DeviceID is 0 (4.2.3.1.1) */
	unsigned config_reads;
	unsigned config_writes;
	unsigned gen_reads;
	int reset_left;            /* reads before a pending reset shows */
	uint8_t reset_shadow;      /* status shown while a reset is pending */
	bool fok_pending;          /* FEATURES_OK written, not yet read back */
};

/* Forget every device and clear the error count (each test case starts here). */
void sim_reset_all(void);

/*
 * Other address ranges a test models itself (tests/sim/pci_model.h: an
 * ECAM and the BARs behind it): register accesses inside [base, base +
 * size) go to read / write with the offset from base instead of to the
 * virtio-mmio devices. sim_reset_all forgets them.
 */
struct sim_region {
	uintptr_t base;
	uintptr_t size;
	uint32_t (*read)(void *ctx, uintptr_t off, unsigned width);
	void (*write)(void *ctx, uintptr_t off, uint32_t v, unsigned width);
	void *ctx;
};
#define SIM_MAX_REGIONS 8
/* Returns 0, or -1 when SIM_MAX_REGIONS are taken. */
int sim_region_add(const struct sim_region *r);

/*
 * For a port that runs the device in a thread of its own
 * (sim_pthread_port.h). The simulator is single-threaded code: lock and
 * unlock serialize every entry into it. The library's register accesses
 * (vio_host_mmio_read/write) take them here; the device thread (sim_step)
 * and a test that touches a device (knobs, sim_config_change) take them
 * through the port. Ring memory is shared without the lock, as with real
 * hardware: its 16-bit fields are accessed atomically on both sides.
 */
struct sim_threads {
	void (*lock)(void);
	void (*unlock)(void);
	/* The driver wrote QueueNotify (under the lock): wake the device. */
	void (*notified)(struct sim_dev *d, unsigned q);
	/* sim_raise raised line irq (under the lock): deliver it once unlocked. */
	void (*raise)(int irq);
	/*
	 * Whether the calling thread runs an interrupt handler: it may then
	 * only read InterruptStatus and write InterruptACK (anything else is
	 * a driver error). Optional.
	 */
	bool (*in_irq)(void);
};

/* Install t (NULL: no threads, the default; sim_reset_all restores it). */
void sim_set_threads(const struct sim_threads *t);

/*
 * Create a device in slot (0 .. SIM_MAX_DEVS-1) with interface version
 * (1 or 2) and device id, one queue of QueueNumMax 256, no features, no
 * config, the null model (completes every chain with 0 bytes).
 */
struct sim_dev *sim_dev_new(int slot, uint32_t version, uint32_t device_id);
/* Remove the device (its slot is free again). */
void sim_dev_del(struct sim_dev *d);
struct sim_dev *sim_dev_at_slot(int slot);
struct sim_dev *sim_dev_by_base(uintptr_t base);

static inline uintptr_t sim_base(int slot)
{
	return (uintptr_t)SIM_BASE + (uintptr_t)slot * SIM_STRIDE;
}

static inline bool sim_is_legacy(const struct sim_dev *d)
{
	return d->version == 1;
}

/*
 * Play the device: serve held chains and everything in the avail rings,
 * write the used rings, raise the interrupt where the driver wants one.
 * Does nothing unless the driver set DRIVER_OK (or the bypass knob is on)
 * and the device does not need a reset. Returns the chains completed.
 */
unsigned sim_step(struct sim_dev *d);
unsigned sim_step_all(void);

/* Chains the model holds on queue q. */
unsigned sim_held(const struct sim_dev *d, unsigned q);

/*
 * Set InterruptStatus bits and raise the line (delivered by the test port,
 * sim_port.h, or by the device thread of sim_pthread_port.h). Interrupts
 * are level-triggered: a handler that does not acknowledge leaves the
 * status set.
 */
void sim_raise(struct sim_dev *d, uint32_t bits);

/* Change config bytes [off, off+len) and signal a configuration change (4.2.2: bit 1). */
void sim_config_change(struct sim_dev *d, unsigned off, const void *data, unsigned len);

/* Set DEVICE_NEEDS_RESET and send a configuration change notification (2.1.2). */
void sim_needs_reset(struct sim_dev *d);

/* Config space in the device's byte order (little-endian, or native on legacy). */
void sim_config_set(struct sim_dev *d, unsigned off, unsigned width, uint64_t val);

/*
 * Ring-only tests: give queue q the ring at desc/avail/used (host pointers)
 * of num entries as if the driver had set it up, and process it whatever the
 * status (bypass).
 */
void sim_queue_attach(struct sim_dev *d, unsigned q, uint32_t num, void *desc, void *avail,
		      void *used);

/* The same for a packed ring (2.8): the descriptor ring and both event structures. */
void sim_queue_attach_packed(struct sim_dev *d, unsigned q, uint32_t num, void *ring,
			     void *driver_event, void *device_event);

/*
 * Write one used entry by hand (id, len) and publish it by bumping used->idx
 * by idx_step (normally 1). For exact protocol-violation tests.
 */
void sim_used_push(struct sim_dev *d, unsigned q, uint32_t id, uint32_t len, uint16_t idx_step);

/* The driver errors seen since the last call (and clear the count). Any thread. */
unsigned sim_take_errors(void);
/* The driver errors seen so far. */
unsigned sim_errors(void);
/* The last driver error message ("" if none). */
const char *sim_last_error(void);
/* Full barriers (vio_mb) the library executed. */
extern unsigned sim_full_barriers;

/*
 * Store visibility (the knob sim_store_buffer, off by default): the
 * driver's stores to shared ring fields (vio_shared_write16) wait in a
 * store buffer, as on x86-TSO or Arm, invisible to the device, until the
 * driver executes a full barrier (vio_mb) or writes a register (a register
 * write is ordered after earlier memory accesses, include/vio/io.h). The
 * driver's own loads see its buffered stores. Only for the coherent test
 * ports: the cache model would clean the stale value.
 */
extern bool sim_store_buffer;
/* Stores waiting in the buffer. */
unsigned sim_stores_buffered(void);
/* Make every buffered store visible (the CPU's buffer drains in time). */
void sim_store_drain(void);

/*
 * The simulator's port frees DMA memory: a ring a live queue still uses
 * must not be freed (3.3.1: the device is reset, or the queue shown
 * disabled, first). Reports a driver error.
 */
void sim_dma_freeing(const void *p, size_t size);

/* Report a driver error (printed, counted). */
void sim_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print driver errors as they happen (default true). */
extern bool sim_verbose;

/* Index of the status value in the status log, or -1. */
int sim_status_logged(const struct sim_dev *d, uint8_t status);

/* Models. */
extern const struct sim_model sim_null_model;

/* The rng model (5.4): fills writable buffers with a deterministic stream. */
struct sim_rng {
	uint32_t pos;        /* next stream position */
	bool hold;           /* knob: hold every request until cleared */
	unsigned delay;      /* knob: each request completes at its delay+1-th step */
	unsigned zero_fills; /* knob: the next N requests complete with 0 bytes */
	uint32_t max_fill;   /* knob: at most this many bytes per request (0: all) */
	unsigned requests;   /* observed: requests served */
	unsigned waited;     /* steps the oldest request has waited */
};

extern const struct sim_model sim_rng_model;
/* Make d an rng device driven by rng (zeroed by this call). */
void sim_rng_attach(struct sim_dev *d, struct sim_rng *rng);
/* Byte pos of the rng stream. */
uint8_t sim_rng_byte(uint32_t pos);

#endif
