/* SPDX-License-Identifier: Apache-2.0 */
/* The line editor: key decoding, in-line editing with redraw, history, Tab. */
#include <string.h>

#include "line.h"

#define CTRL(k) ((k) & 0x1f)
#define ESC 0x1b
#define DEL 0x7f
#define LIST_WIDTH 78

/* Escape parser states. */
enum { TEXT, GOT_ESC, GOT_CSI, GOT_SS3 };

/* What a key does, after decoding. */
enum key { K_NONE, K_UP, K_DOWN, K_LEFT, K_RIGHT, K_HOME, K_END, K_DELETE };

static void out(struct line *l, const char *s, size_t n)
{
	if (n)
		l->cfg.write(l->cfg.ctx, s, n);
}

static void outs(struct line *l, const char *s)
{
	out(l, s, strlen(s));
}

static void repeat(struct line *l, char c, size_t n)
{
	char chunk[16];

	memset(chunk, c, sizeof(chunk));
	while (n) {
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);

		out(l, chunk, k);
		n -= k;
	}
}

static void bell(struct line *l)
{
	outs(l, "\a");
}

/* Move the terminal's cursor (at l->pos) to p, and l->pos with it. */
static void move_to(struct line *l, size_t p)
{
	if (p < l->pos)
		repeat(l, '\b', l->pos - p);
	else
		out(l, l->cfg.buf + l->pos, p - l->pos);
	l->pos = p;
}

/*
 * The terminal shows the line right up to column from, and the cursor is
 * there: print the rest, blank `blank` stale cells after it, and come back
 * to l->pos.
 */
static void redraw_from(struct line *l, size_t from, size_t blank)
{
	out(l, l->cfg.buf + from, l->len - from);
	repeat(l, ' ', blank);
	repeat(l, '\b', l->len + blank - l->pos);
}

static void redraw_all(struct line *l)
{
	outs(l, l->prompt);
	out(l, l->cfg.buf, l->len);
	repeat(l, '\b', l->len - l->pos);
}

/* Insert n bytes at the cursor; what does not fit is dropped with a bell. */
static void insert(struct line *l, const char *s, size_t n)
{
	size_t room = l->cfg.size - 1 - l->len, from = l->pos;

	if (n > room) {
		bell(l);
		n = room;
	}
	if (!n)
		return;
	memmove(l->cfg.buf + l->pos + n, l->cfg.buf + l->pos, l->len - l->pos);
	memcpy(l->cfg.buf + l->pos, s, n);
	l->len += n;
	l->pos += n;
	redraw_from(l, from, 0);
}

/* Remove the bytes [from, to); the cursor ends at from. */
static void erase(struct line *l, size_t from, size_t to)
{
	if (from >= to)
		return;
	move_to(l, from);
	memmove(l->cfg.buf + from, l->cfg.buf + to, l->len - to);
	l->len -= to - from;
	redraw_from(l, from, to - from);
}

/* Replace the whole line with s (a history row: shorter than size), cursor at its end. */
static void replace(struct line *l, const char *s)
{
	size_t old = l->len, n = strlen(s); /* history rows hold less than size */

	move_to(l, 0);
	memcpy(l->cfg.buf, s, n);
	l->len = n;
	l->pos = n;
	out(l, l->cfg.buf, n);
	if (old > n) {
		repeat(l, ' ', old - n);
		repeat(l, '\b', old - n);
	}
}

/* --- history: rows 0..depth-1 are a ring, row depth keeps the new line --- */

static bool has_history(const struct line *l)
{
	return l->cfg.history && l->cfg.depth;
}

static char *row(struct line *l, unsigned i)
{
	return l->cfg.history + (size_t)i * l->cfg.size;
}

/* The n-th newest stored line, n >= 1. */
static char *nth(struct line *l, unsigned n)
{
	return row(l, (l->newest + l->cfg.depth - (n - 1)) % l->cfg.depth);
}

static void remember(struct line *l)
{
	if (!has_history(l) || !l->len)
		return;
	/* A command run twice in a row is kept once, so Up skips repeats. */
	if (l->stored && !strcmp(nth(l, 1), l->cfg.buf))
		return;
	if (l->stored)
		l->newest = (l->newest + 1) % l->cfg.depth;
	memcpy(row(l, l->newest), l->cfg.buf, l->len + 1);
	if (l->stored < l->cfg.depth)
		l->stored++;
}

static void older(struct line *l)
{
	if (!has_history(l) || l->browse >= l->stored) {
		bell(l);
		return;
	}
	if (!l->browse) {
		memcpy(row(l, l->cfg.depth), l->cfg.buf, l->len);
		row(l, l->cfg.depth)[l->len] = '\0';
	}
	l->browse++;
	replace(l, nth(l, l->browse));
}

static void newer(struct line *l)
{
	if (!l->browse) {
		bell(l);
		return;
	}
	l->browse--;
	replace(l, l->browse ? nth(l, l->browse) : row(l, l->cfg.depth));
}

/* --- Tab --- */

void line_offer(struct line *l, const char *word)
{
	size_t n = strlen(word), i;

	if (n < l->word_len || memcmp(word, l->word, l->word_len))
		return;
	if (l->listing) {
		if (l->col && l->col + n + 2 > LIST_WIDTH) {
			outs(l, "\n");
			l->col = 0;
		}
		outs(l, word);
		outs(l, "  ");
		l->col += n + 2;
		return;
	}
	if (!l->matches++) {
		/* Copied: the caller's string may live only for this call. */
		l->common = n < sizeof(l->match) ? n : sizeof(l->match) - 1;
		l->match_len = n;
		memcpy(l->match, word, l->common);
		return;
	}
	for (i = 0; i < l->common && i < n && l->match[i] == word[i]; i++)
		;
	l->common = i;
}

static void complete(struct line *l)
{
	size_t start = l->pos;

	if (!l->cfg.complete) {
		bell(l);
		return;
	}
	while (start && l->cfg.buf[start - 1] != ' ')
		start--;
	l->word = l->cfg.buf + start;
	l->word_len = l->pos - start;
	l->matches = 0;
	l->listing = false;
	l->cfg.complete(l->cfg.ctx, l, l->cfg.buf, start);
	if (!l->matches) {
		bell(l);
		return;
	}
	if (l->common > l->word_len)
		insert(l, l->match + l->word_len, l->common - l->word_len);
	if (l->matches == 1) {
		/* The word is whole (not cut to match[]): the next one may follow. */
		if (l->common == l->match_len && (l->pos == l->len || l->cfg.buf[l->pos] != ' '))
			insert(l, " ", 1);
		return;
	}
	/* Several: list them under the line, then show the line again. */
	l->word = l->cfg.buf + start;
	l->word_len = l->pos - start;
	l->listing = true;
	l->col = 0;
	outs(l, "\n");
	l->cfg.complete(l->cfg.ctx, l, l->cfg.buf, start);
	l->listing = false;
	outs(l, "\n");
	redraw_all(l);
}

/* --- keys --- */

static void key(struct line *l, enum key k)
{
	switch (k) {
	case K_UP:
		older(l);
		break;
	case K_DOWN:
		newer(l);
		break;
	case K_LEFT:
		if (l->pos)
			move_to(l, l->pos - 1);
		break;
	case K_RIGHT:
		if (l->pos < l->len)
			move_to(l, l->pos + 1);
		break;
	case K_HOME:
		move_to(l, 0);
		break;
	case K_END:
		move_to(l, l->len);
		break;
	case K_DELETE:
		erase(l, l->pos, l->pos + (l->pos < l->len));
		break;
	case K_NONE:
		break;
	}
}

/* The key an ESC [ sequence names by its final byte (and number, for '~'). */
static enum key csi_key(unsigned char final, unsigned param)
{
	switch (final) {
	case 'A':
		return K_UP;
	case 'B':
		return K_DOWN;
	case 'C':
		return K_RIGHT;
	case 'D':
		return K_LEFT;
	case 'H':
		return K_HOME;
	case 'F':
		return K_END;
	case '~':
		/* vt220 keys: 1 and 7 are Home, 4 and 8 End (the terminals disagree). */
		if (param == 1 || param == 7)
			return K_HOME;
		if (param == 4 || param == 8)
			return K_END;
		if (param == 3)
			return K_DELETE;
		return K_NONE;
	default:
		return K_NONE;
	}
}

/* Consume c if it belongs to an escape sequence; true when it did. */
static bool escape(struct line *l, unsigned char c)
{
	switch (l->esc) {
	case GOT_ESC:
		/*
		 * ESC ESC stays an escape; a control byte (Enter, Ctrl-C) counts
		 * on its own; any other byte (an Alt-key) is dropped.
		 */
		if (c < 0x20 && c != ESC) {
			l->esc = TEXT;
			return false;
		}
		if (c == '[') {
			l->esc = GOT_CSI;
			l->param = 0;
			l->param_done = false;
		} else if (c == 'O') {
			l->esc = GOT_SS3;
		} else if (c != ESC) {
			l->esc = TEXT;
		}
		return true;
	case GOT_SS3:
		l->esc = TEXT;
		key(l, csi_key(c, 0));
		return true;
	case GOT_CSI:
		if (c >= '0' && c <= '9') {
			if (!l->param_done && l->param < 1000)
				l->param = l->param * 10 + (c - '0');
			return true;
		}
		if (c >= 0x20 && c < 0x40) {
			/* ';' and what follows (Shift, Ctrl): the key is the same. */
			l->param_done = true;
			return true;
		}
		l->esc = TEXT;
		if (c >= 0x40 && c <= 0x7e) {
			key(l, csi_key(c, l->param));
			return true;
		}
		return false; /* a broken sequence: the byte counts on its own */
	default:
		return false;
	}
}

static size_t word_start(const struct line *l)
{
	size_t p = l->pos;

	while (p && l->cfg.buf[p - 1] == ' ')
		p--;
	while (p && l->cfg.buf[p - 1] != ' ')
		p--;
	return p;
}

enum line_status line_feed(struct line *l, unsigned char c)
{
	bool lf_after_cr = c == '\n' && l->after_cr;

	l->after_cr = c == '\r';
	if (escape(l, c) || lf_after_cr)
		return LINE_MORE;
	switch (c) {
	case '\r':
	case '\n':
		l->cfg.buf[l->len] = '\0';
		outs(l, "\n");
		remember(l);
		l->browse = 0;
		return LINE_DONE;
	case CTRL('C'):
		outs(l, "^C\n");
		l->len = l->pos = 0;
		l->cfg.buf[0] = '\0';
		l->browse = 0;
		return LINE_CANCEL;
	case DEL:
	case '\b':
		if (l->pos)
			erase(l, l->pos - 1, l->pos);
		break;
	case CTRL('D'):
		key(l, K_DELETE);
		break;
	case CTRL('A'):
		key(l, K_HOME);
		break;
	case CTRL('E'):
		key(l, K_END);
		break;
	case CTRL('B'):
		key(l, K_LEFT);
		break;
	case CTRL('F'):
		key(l, K_RIGHT);
		break;
	case CTRL('P'):
		key(l, K_UP);
		break;
	case CTRL('N'):
		key(l, K_DOWN);
		break;
	case CTRL('U'):
		erase(l, 0, l->pos);
		break;
	case CTRL('K'):
		erase(l, l->pos, l->len);
		break;
	case CTRL('W'):
		erase(l, word_start(l), l->pos);
		break;
	case CTRL('L'):
		outs(l, "\x1b[H\x1b[2J");
		redraw_all(l);
		break;
	case '\t':
		complete(l);
		break;
	case ESC:
		l->esc = GOT_ESC;
		break;
	default:
		if (c >= 0x20 && c < DEL) {
			char ch = (char)c;

			insert(l, &ch, 1);
		}
		break;
	}
	return LINE_MORE;
}

void line_init(struct line *l, const struct line_config *cfg)
{
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	l->prompt = "";
	if (l->cfg.size)
		l->cfg.buf[0] = '\0';
}

void line_start(struct line *l, const char *prompt)
{
	l->prompt = prompt;
	l->len = l->pos = 0;
	l->cfg.buf[0] = '\0';
	l->browse = 0;
	l->esc = TEXT;
	outs(l, prompt);
}
