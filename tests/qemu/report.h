/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the on-target test firmwares print for the host-side runners:
 *
 *     PASS <name>
 *     FAIL <name>: <why>
 *     RESULT: <passed> passed, <failed> failed
 *
 * then QEMU exits with status 1 if anything failed, else 0.
 */
#ifndef VIO_TEST_REPORT_H
#define VIO_TEST_REPORT_H

void pass(const char *name);
void fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print the RESULT line and leave QEMU with the status it implies. */
void report_finish(void) __attribute__((noreturn));

#endif
