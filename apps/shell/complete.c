/* SPDX-License-Identifier: Apache-2.0 */
/* Tab completion: which words may stand where the cursor's word starts. */
#include <string.h>

#include <vio/device.h>

#include "vio_config.h"

#include "line.h"
#include "shell.h"

static void offer_name(const struct shell_cmd *cmd, void *l)
{
	line_offer(l, cmd->name);
}

/* Each blank-separated word of words. */
static void offer_words(struct line *l, const char *words)
{
	char word[32];

	while (*words) {
		size_t n = strcspn(words, " ");

		if (n && n < sizeof(word)) {
			memcpy(word, words, n);
			word[n] = '\0';
			line_offer(l, word);
		}
		words += n;
		words += strspn(words, " ");
	}
}

void shell_complete(void *ctx, struct line *l, const char *line, size_t start)
{
	char copy[CONFIG_VIO_SHELL_LINE_MAX];
	char *argv[SHELL_MAX_ARGS];
	const struct shell_cmd *cmd;
	int argc;

	(void)ctx;
	if (start >= sizeof(copy))
		return;
	memcpy(copy, line, start);
	copy[start] = '\0';
	argc = shell_split(copy, argv);
	if (argc < 0)
		return;
	if (argc == 0) {
		shell_for_each(offer_name, l);
		return;
	}
	cmd = shell_find(argv[0]);
	if (!cmd)
		return;
	if (!strcmp(cmd->name, "help")) {
		if (argc == 1)
			shell_for_each(offer_name, l);
		return;
	}
	if (argc == 1 && cmd->args)
		offer_words(l, cmd->args);
	/* Any argument may name a device (blk -d blk1, blk info blk1, ...). */
	for (unsigned i = 0; i < vio_dev_count(); i++)
		line_offer(l, vio_dev_at(i)->name);
#if CONFIG_VIO_DRIVER_CONSOLE
	if (!strcmp(cmd->name, "console"))
		shell_console_ports(l);
#endif
}
