/* SPDX-License-Identifier: Apache-2.0 */
/* The host tests' harness (test.h). */
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "sim_port.h"
#include "test.h"

static unsigned passed, failed;
static bool allow_sim_errors;

void test_check(bool ok, const char *file, int line, const char *expr)
{
	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
}

void test_check_eq(long long a, long long b, const char *file, int line, const char *ea,
		   const char *eb)
{
	if (a == b) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: FAILED: %s == %s (%lld vs %lld, %#llx vs %#llx)\n", file, line, ea,
		eb, a, b, (unsigned long long)a, (unsigned long long)b);
}

void test_check_str(const char *a, const char *b, const char *file, int line, const char *ea,
		    const char *eb)
{
	if (a && b && !strcmp(a, b)) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "%s:%d: FAILED: %s == %s (\"%s\" vs \"%s\")\n", file, line, ea, eb,
		a ? a : "(null)", b ? b : "(null)");
}

void test_allow_sim_errors(void)
{
	allow_sim_errors = true;
}

void test_run(const char *name, void (*fn)(void))
{
	unsigned before = failed;
	unsigned errs;

	fprintf(stderr, "--- %s\n", name);
	sim_reset_all();
	sim_port_reset();
	allow_sim_errors = false;
	fn();
	errs = sim_take_errors();
	if (errs && !allow_sim_errors) {
		failed++;
		fprintf(stderr, "%s: FAILED: the simulated device saw %u driver error(s); last: %s\n",
			name, errs, sim_last_error());
	}
	fprintf(stderr, "--- %s: %s\n", name, failed == before ? "ok" : "FAILED");
	/* Drop everything, so the leak checker only sees what a case lost itself. */
	sim_reset_all();
	sim_port_reset();
}

int test_report(void)
{
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
