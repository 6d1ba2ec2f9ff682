/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tiny test harness: each test program is a list of cases run with RUN();
 * a failed check prints file:line and the values, and counts. main() ends
 * with `return test_report();`, which prints "N passed, M failed" and gives
 * the exit status.
 *
 * Every case starts with a fresh simulator and test port (sim_reset_all,
 * sim_port_reset) and ends with a check that the simulated devices saw no
 * driver error (unless the case called test_allow_sim_errors).
 */
#ifndef VIO_TEST_H
#define VIO_TEST_H

#include <stdbool.h>
#include <stdint.h>

void test_check(bool ok, const char *file, int line, const char *expr);
void test_check_eq(long long a, long long b, const char *file, int line, const char *ea,
		   const char *eb);
void test_check_str(const char *a, const char *b, const char *file, int line, const char *ea,
		    const char *eb);

#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ(a, b) test_check_eq((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_STR(a, b) test_check_str((a), (b), __FILE__, __LINE__, #a, #b)

/* Run one case: reset the simulator and the port, call fn, check the sim. */
void test_run(const char *name, void (*fn)(void));
#define RUN(fn) test_run(#fn, fn)

/* The running case expects the simulator to report driver errors. */
void test_allow_sim_errors(void);

/* Print "N passed, M failed"; the exit status for main. */
int test_report(void);

#endif
