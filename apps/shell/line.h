/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A line editor for a terminal: fed one byte at a time, it echoes through a
 * write callback and hands back a finished line. It knows nothing of where
 * the bytes come from (UART, virtio-console port, a host test), so it builds
 * anywhere.
 *
 * Keys: printable ASCII inserts at the cursor; Backspace (0x7f, 0x08)
 * erases before it, Delete (ESC [ 3 ~) and Ctrl-D at it; Left/Right (and
 * Ctrl-B/F) move; Home/End (ESC [ H/F, ESC O H/F, ESC [ 1~/7~ and 4~/8~,
 * Ctrl-A/E) jump; Up/Down (and Ctrl-P/N) walk the history; Ctrl-U erases
 * before the cursor, Ctrl-K from it, Ctrl-W the word before it; Ctrl-L
 * clears the screen; Ctrl-C abandons the line; Tab completes the word
 * before the cursor. CR, LF and CR LF each end a line once, so a terminal
 * and a pipe both work. Other control bytes and unknown escape sequences
 * are swallowed.
 *
 * The echo uses "\n" for a new line (the stream below is expected to make
 * it CR LF for a terminal), "\b" to move left, a re-print to move right,
 * and ESC [ H ESC [ 2 J only for Ctrl-L. Lines are assumed to fit on one
 * terminal row: moving left does not cross a wrapped row.
 *
 * None of the functions may be called from an interrupt; one struct line
 * serves one caller at a time.
 */
#ifndef VIO_SHELL_LINE_H
#define VIO_SHELL_LINE_H

#include <stdbool.h>
#include <stddef.h>

struct line;

/* Offer one completion candidate; called from a line_complete_fn. */
void line_offer(struct line *l, const char *word);

/*
 * Offer (with line_offer) every word that may stand where the word being
 * completed starts: line holds the start bytes of the line before that word
 * (not NUL-terminated). The editor keeps the candidates that begin with the
 * typed part; it may call this twice for one Tab (to count, then to list).
 */
typedef void (*line_complete_fn)(void *ctx, struct line *l, const char *line, size_t start);

struct line_config {
	/* The echo: len bytes to the terminal. Required. */
	void (*write)(void *ctx, const char *buf, size_t len);
	line_complete_fn complete; /* NULL: Tab is ignored */
	void *ctx;                 /* handed to write and complete */
	char *buf;                 /* the line being edited, size bytes (NUL included) */
	size_t size;
	/*
	 * The history: (depth + 1) * size bytes (LINE_HISTORY_BYTES); the
	 * extra row keeps the line being typed while Up shows older ones.
	 * NULL or depth 0: no history.
	 */
	char *history;
	unsigned depth;
};

#define LINE_HISTORY_BYTES(depth, size) (((size_t)(depth) + 1u) * (size_t)(size))

enum line_status {
	LINE_MORE,   /* keep feeding */
	LINE_DONE,   /* buf holds the line, NUL-terminated; it went into the history */
	LINE_CANCEL, /* Ctrl-C: the line was abandoned */
};

/* Everything the editor keeps; the members are its own. */
struct line {
	struct line_config cfg;
	const char *prompt;
	size_t len, pos;   /* bytes in buf, cursor */
	bool after_cr;     /* the last line ended with CR: an LF right after is no new line */
	int esc;           /* escape parser state */
	unsigned param;    /* the first number of an ESC [ n ; m ~ sequence */
	bool param_done;   /* past that number: modifiers follow */
	unsigned stored;   /* history lines kept, at most depth */
	unsigned newest;   /* row of the newest history line */
	unsigned browse;   /* 0: editing the new line; n: showing the n-th newest */
	/* Tab: the typed word, and what the candidates so far share (at most 31 bytes). */
	const char *word;
	size_t word_len, common, match_len;
	char match[32];
	unsigned matches;
	bool listing;
	size_t col;
};

/* Set up l from cfg (copied). */
void line_init(struct line *l, const struct line_config *cfg);

/* Start a new line: print prompt (kept for redraws) and empty the buffer. */
void line_start(struct line *l, const char *prompt);

/* Feed one byte. */
enum line_status line_feed(struct line *l, unsigned char c);

#endif
