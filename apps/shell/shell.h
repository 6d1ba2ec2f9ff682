/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shell: a line editor (line.c) on stdin and stdout, which are the UART
 * or a virtio-console port, and a dispatcher over command tables.
 * Each command group lives in a file of its own and exports one table,
 * terminated by an entry with name NULL; shell.c lists the groups.
 */
#ifndef VIO_SHELL_H
#define VIO_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "vio_config.h"

#define SHELL_MAX_ARGS 8

/* The network commands: the lwIP adapter on, and a virtio-net driver in the library. */
#if CONFIG_VIO_ADAPTER_LWIP && defined(VIO_SHELL_NET_DRIVER)
#define SHELL_NET 1
#else
#define SHELL_NET 0
#endif

struct shell_cmd {
	const char *name;
	const char *usage; /* arguments, "" for none */
	const char *help;  /* one line */
	/* argv[0] is the command name. Returns 0, or nonzero after printing why. */
	int (*run)(int argc, char **argv);
	/* Tab's words for the first argument (subcommands, options), blank-separated; or NULL. */
	const char *args;
};

/* The command groups (cmd_*.c). */
extern const struct shell_cmd shell_system_cmds[];
extern const struct shell_cmd shell_dev_cmds[];
extern const struct shell_cmd shell_rng_cmds[];
extern const struct shell_cmd shell_blk_cmds[];
extern const struct shell_cmd shell_net_cmds[];

/*
 * The network (cmd_net.c, with SHELL_NET): start lwIP on the
 * first virtio-net device, once, before the prompt; and run it once while
 * the line reader waits for a key (vio_service, lwIP's input and timers,
 * then a nap that a device's interrupt cuts short).
 */
void shell_net_start(void);
void shell_net_idle(void);

/*
 * Key presses on the first virtio keyboard become stdin bytes too, beside
 * the UART's (keys.c; US layout). Once, before the prompt; nothing without
 * a keyboard.
 */
void shell_keys_start(void);

extern const struct shell_cmd shell_console_cmds[];
extern const struct shell_cmd shell_input_cmds[];
extern const struct shell_cmd shell_gpu_cmds[];

/* Read, parse and run commands forever. */
void shell_run(void) __attribute__((noreturn));

/* Call fn(cmd, ctx) for every command of every group, in table order. */
void shell_for_each(void (*fn)(const struct shell_cmd *cmd, void *ctx), void *ctx);

/* The command called name, or NULL. */
const struct shell_cmd *shell_find(const char *name);

/*
 * Split line in place at blanks into argv (SHELL_MAX_ARGS entries).
 * Returns argc, or -1 when there are more words.
 */
int shell_split(char *line, char **argv);

/*
 * A command's answer to arguments it cannot take: prints "usage: USAGE"
 * (USAGE starts with the command's name) and where to read more, on one
 * line. Returns 1, for the command to return.
 */
int shell_usage(const char *usage);

struct line;
/*
 * Tab (a line_complete_fn, line.h): command names for the first word and
 * after help; for arguments, the command's args for the first and the
 * device names for any.
 */
void shell_complete(void *ctx, struct line *l, const char *line, size_t start);

/* Offer every named port of the first virtio-console to l (cmd_console.c). */
void shell_console_ports(struct line *l);

/* Print len bytes as hex, 32 a line, each line led by its offset. */
void shell_hexdump(const uint8_t *buf, size_t len);

struct vio_device;
/*
 * Print head, then dev's negotiated features by name, wrapped at 78
 * columns; continuation lines are indented as wide as head.
 */
void shell_print_features(const struct vio_device *dev, const char *head);

#endif
