/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shell: a line reader on the UART and a dispatcher over command tables.
 * Each command group lives in a file of its own and exports one table,
 * terminated by an entry with name NULL; shell.c lists the groups.
 */
#ifndef VIO_SHELL_H
#define VIO_SHELL_H

#include <stddef.h>
#include <stdint.h>

#define SHELL_MAX_ARGS 8

struct shell_cmd {
	const char *name;
	const char *usage; /* arguments, "" for none */
	const char *help;  /* one line */
	/* argv[0] is the command name. Returns 0, or nonzero after printing why. */
	int (*run)(int argc, char **argv);
};

/* The command groups (cmd_*.c). */
extern const struct shell_cmd shell_system_cmds[];
extern const struct shell_cmd shell_dev_cmds[];
extern const struct shell_cmd shell_rng_cmds[];
extern const struct shell_cmd shell_blk_cmds[];
extern const struct shell_cmd shell_console_cmds[];

/* Read, parse and run commands forever. */
void shell_run(void) __attribute__((noreturn));

/* Call fn for every command of every group, in table order. */
void shell_for_each(void (*fn)(const struct shell_cmd *cmd));

/* Print len bytes as hex, 32 a line, each line led by its offset. */
void shell_hexdump(const uint8_t *buf, size_t len);

struct vio_device;
/*
 * Print head, then dev's negotiated features by name, wrapped at 78
 * columns; continuation lines are indented as wide as head.
 */
void shell_print_features(const struct vio_device *dev, const char *head);

#endif
