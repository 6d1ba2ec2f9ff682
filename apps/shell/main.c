/* SPDX-License-Identifier: Apache-2.0 */
/* The vio shell firmware: bring up vio, print a banner, run the prompt. */
#include <stdio.h>

#include "vio_config.h"

#include "app.h"
#include "board.h"
#include "shell.h"

#if CONFIG_VIO_IFACE_LEGACY
#define IFACE_CONFIG "legacy only"
#elif CONFIG_VIO_IFACE_MODERN
#define IFACE_CONFIG "modern only"
#else
#define IFACE_CONFIG "auto (legacy and modern)"
#endif

#if CONFIG_VIO_COMPLETION_POLL
#define COMPLETION_CONFIG "polling"
#else
#define COMPLETION_CONFIG "interrupts"
#endif

int main(void)
{
	int n = app_vio_start();

	printf("\nvio shell on %s\n", board_info()->name);
	printf("interface: %s, completion: %s\n", IFACE_CONFIG, COMPLETION_CONFIG);
	if (n < 0)
		printf("vio did not start\n");
	else
		printf("%d virtio device%s; type 'help' for the commands\n", n, n == 1 ? "" : "s");
	shell_keys_start();
#if SHELL_NET
	shell_net_start();
	/* While the prompt waits: the network (vio_service included) instead of app.c's service. */
	board_stdio_idle(shell_net_idle);
#endif
	shell_run();
}
