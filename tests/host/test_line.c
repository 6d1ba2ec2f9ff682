/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shell's line editor alone: byte sequences a terminal sends go in,
 * the edited line and the exact echo come out.
 */
#include <stdio.h>
#include <string.h>

#include "line.h"
#include "test.h"

#define SIZE 32
#define DEPTH 3

static char buf[SIZE];
static char history[LINE_HISTORY_BYTES(DEPTH, SIZE)];
static char echo[4096];
static size_t echo_len;
static struct line ed;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (echo_len + n < sizeof(echo)) {
		memcpy(echo + echo_len, s, n);
		echo_len += n;
		echo[echo_len] = '\0';
	}
}

static const char *const words[] = {
	"help", "hello", "list_device", "a_command_name_longer_than_31_bytes", "blk0", "blk1", NULL,
};

/* Commands at the first word; after "blk", the devices. */
static void offer(void *ctx, struct line *l, const char *line, size_t start)
{
	(void)ctx;
	for (const char *const *w = words; *w; w++) {
		bool dev = !strncmp(*w, "blk", 3);

		if ((start == 0) != dev)
			line_offer(l, *w);
	}
	(void)line;
}

static void setup(size_t size, unsigned depth, bool tab)
{
	struct line_config cfg = {
		.write = capture,
		.complete = tab ? offer : NULL,
		.buf = buf,
		.size = size,
		.history = depth ? history : NULL,
		.depth = depth,
	};

	line_init(&ed, &cfg);
	line_start(&ed, "> ");
	echo_len = 0;
	echo[0] = '\0';
}

/* Feed every byte of s; the status after the last one. */
static enum line_status feed(const char *s)
{
	enum line_status st = LINE_MORE;

	for (; *s; s++)
		st = line_feed(&ed, (unsigned char)*s);
	return st;
}

static void clear_echo(void)
{
	echo_len = 0;
	echo[0] = '\0';
}

static void test_typing(void)
{
	setup(SIZE, 0, false);
	CHECK_EQ(feed("abc"), LINE_MORE);
	CHECK_STR(echo, "abc");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "abc");
	CHECK_STR(echo, "abc\n");
	/* The LF of a CR LF ends nothing; a lone LF does. */
	line_start(&ed, "> ");
	clear_echo();
	CHECK_EQ(feed("\nxy"), LINE_MORE);
	CHECK_EQ(feed("\n"), LINE_DONE);
	CHECK_STR(buf, "xy");
	line_start(&ed, "> ");
	CHECK_EQ(feed("\n"), LINE_DONE);
	CHECK_STR(buf, "");
}

static void test_prompt(void)
{
	setup(SIZE, 0, false);
	line_start(&ed, "vio> ");
	CHECK_STR(echo, "vio> ");
}

static void test_backspace(void)
{
	setup(SIZE, 0, false);
	feed("abcd");
	clear_echo();
	feed("\x7f");
	CHECK_STR(echo, "\b \b");
	feed("\b");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "ab");
	/* Backspace on an empty line does nothing at all. */
	line_start(&ed, "> ");
	clear_echo();
	feed("\x7f\b");
	CHECK_STR(echo, "");
}

static void test_insert_middle(void)
{
	setup(SIZE, 0, false);
	feed("hello world");
	clear_echo();
	feed("\x1b[D\x1b[D\x1b[D");
	CHECK_STR(echo, "\b\b\b");
	clear_echo();
	feed("X");
	/* The tail is printed again and the cursor goes back before it. */
	CHECK_STR(echo, "Xrld\b\b\b");
	feed("\x1b[C");
	feed("Y");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "hello woXrYld");
}

static void test_delete_middle(void)
{
	setup(SIZE, 0, false);
	feed("abcdef\x1b[D\x1b[D\x1b[D");
	clear_echo();
	feed("\x7f");
	CHECK_STR(echo, "\bdef \b\b\b\b");
	clear_echo();
	feed("\x1b[3~");
	CHECK_STR(echo, "ef \b\b\b");
	feed("\x04"); /* Ctrl-D deletes at the cursor too */
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "abf");
	/* Delete at the end of the line changes nothing. */
	line_start(&ed, "> ");
	feed("ab");
	clear_echo();
	feed("\x1b[3~");
	CHECK_STR(echo, "");
	CHECK_EQ(feed("\n"), LINE_DONE);
	CHECK_STR(buf, "ab");
}

/* Every Home and End a terminal may send. */
static void test_home_end(void)
{
	static const char *const home[] = { "\x1b[H", "\x1bOH", "\x1b[1~", "\x1b[7~", "\x01" };
	static const char *const end[] = { "\x1b[F", "\x1bOF", "\x1b[4~", "\x1b[8~", "\x05" };

	for (size_t i = 0; i < sizeof(home) / sizeof(home[0]); i++) {
		setup(SIZE, 0, false);
		feed("bc");
		clear_echo();
		feed(home[i]);
		CHECK_STR(echo, "\b\b");
		feed("a");
		clear_echo();
		feed(end[i]);
		CHECK_STR(echo, "bc");
		feed("d");
		CHECK_EQ(feed("\r"), LINE_DONE);
		CHECK_STR(buf, "abcd");
	}
}

static void test_kill(void)
{
	setup(SIZE, 0, false);
	feed("abcdef\x1b[D\x1b[D");
	clear_echo();
	feed("\x15"); /* Ctrl-U: before the cursor */
	CHECK_STR(echo, "\b\b\b\bef    \b\b\b\b\b\b");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "ef");

	line_start(&ed, "> ");
	feed("abcdef\x1b[D\x1b[D\x0b"); /* Ctrl-K: from the cursor */
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "abcd");

	line_start(&ed, "> ");
	feed("rng read  foo\x17"); /* Ctrl-W: the word before the cursor */
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "rng read  ");
	line_start(&ed, "> ");
	feed("rng read  foo\x17\x17");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "rng ");
	line_start(&ed, "> ");
	feed("rng read\x1b[D\x1b[D\x17");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "rng ad");
}

static void test_cancel_and_redraw(void)
{
	setup(SIZE, 0, false);
	feed("abc");
	clear_echo();
	CHECK_EQ(feed("\x03"), LINE_CANCEL);
	CHECK_STR(echo, "^C\n");
	CHECK_STR(buf, "");

	line_start(&ed, "> ");
	feed("abc\x1b[D");
	clear_echo();
	feed("\x0c"); /* Ctrl-L: clear, then prompt and line with the cursor where it was */
	CHECK_STR(echo, "\x1b[H\x1b[2J> abc\b");
}

static void test_escapes_swallowed(void)
{
	setup(SIZE, 0, false);
	/* Insert, F5, Ctrl-Right (moves: modifiers ignored), Alt-x, ESC ESC [ D. */
	feed("ab\x1b[2~\x1b[15~\x1bx\x1b\x1b[D");
	feed("\x1b[1;5C\x1b[3;5~");
	feed("c");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "abc");
	/* A lone ESC before a control key leaves the key alone. */
	line_start(&ed, "> ");
	feed("ab\x1b");
	CHECK_EQ(feed("\x03"), LINE_CANCEL);
	line_start(&ed, "> ");
	feed("ab\x1b");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "ab");
	/* Control bytes of no meaning are dropped. */
	line_start(&ed, "> ");
	feed("a\x07\x1f\x80\xffz");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "az");
}

static void test_full(void)
{
	setup(8, 0, false);
	clear_echo();
	feed("abcdefghij");
	CHECK_STR(echo, "abcdefg\a\a\a");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "abcdefg");
}

static void test_history(void)
{
	setup(SIZE, DEPTH, false);
	feed("one\r");
	line_start(&ed, "> ");
	feed("two\r");
	line_start(&ed, "> ");
	feed("two\r"); /* a repeat is kept once */
	line_start(&ed, "> ");
	feed("dr");
	clear_echo();
	feed("\x1b[A");
	CHECK_STR(echo, "\b\btwo");
	clear_echo();
	feed("\x1b[A");
	CHECK_STR(echo, "\b\b\bone");
	clear_echo();
	feed("\x1b[A"); /* no older line */
	CHECK_STR(echo, "\a");
	feed("\x1b[B");
	clear_echo();
	feed("\x1b[B"); /* back to what was being typed, shorter: blanked */
	CHECK_STR(echo, "\b\b\bdr \b");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "dr");

	/* Up, Up, Enter runs the line before the last one. */
	line_start(&ed, "> ");
	feed("\x10\x10"); /* Ctrl-P */
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "two");

	/* The ring keeps DEPTH lines (two dr two, then three): Up stops at "dr". */
	line_start(&ed, "> ");
	feed("three\r");
	line_start(&ed, "> ");
	feed("\x1b[A\x1b[A\x1b[A");
	clear_echo();
	feed("\x1b[A");
	CHECK_STR(echo, "\a");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "dr");

	/* An edited history line runs edited; the stored one stays (three dr thrx). */
	line_start(&ed, "> ");
	feed("\x1b[A\x1b[A\x7f\x7fx\r");
	CHECK_STR(buf, "thrx");
	line_start(&ed, "> ");
	feed("\x1b[A\x1b[A\x1b[A\r");
	CHECK_STR(buf, "three");
}

static void test_no_history(void)
{
	setup(SIZE, 0, false);
	feed("one\r");
	line_start(&ed, "> ");
	clear_echo();
	feed("\x1b[A\x1b[B");
	CHECK_STR(echo, "\a\a");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "");
}

static void test_tab(void)
{
	setup(SIZE, 0, true);
	clear_echo();
	feed("li\t");
	CHECK_STR(echo, "list_device ");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "list_device ");

	/* Several: the common prefix, then the list and the line again. */
	line_start(&ed, "> ");
	clear_echo();
	feed("he\t");
	CHECK_STR(echo, "hel\nhelp  hello  \n> hel");
	feed("p\r");
	CHECK_STR(buf, "help");

	/* Arguments: the completer sees the words before. */
	line_start(&ed, "> ");
	clear_echo();
	feed("x b\t");
	CHECK_STR(echo, "x blk\nblk0  blk1  \n> x blk");
	feed("1\t");
	CHECK_EQ(feed("\r"), LINE_DONE);
	CHECK_STR(buf, "x blk1 ");

	/* No candidate: a bell. In the middle of a line: up to the cursor. */
	line_start(&ed, "> ");
	clear_echo();
	feed("zz\t");
	CHECK_STR(echo, "zz\a");
	line_start(&ed, "> ");
	feed("li blk0\x1b[H\x1b[C\x1b[C\t\r");
	CHECK_STR(buf, "list_device blk0");

	/* A word longer than the editor keeps: completed that far, no blank after. */
	line_start(&ed, "> ");
	clear_echo();
	feed("a\t");
	CHECK_STR(echo, "a_command_name_longer_than_31_b");

	/* Without a completer Tab only rings. */
	setup(SIZE, 0, false);
	feed("li\t");
	CHECK_STR(echo, "li\a");
}

int main(void)
{
	RUN(test_typing);
	RUN(test_prompt);
	RUN(test_backspace);
	RUN(test_insert_middle);
	RUN(test_delete_middle);
	RUN(test_home_end);
	RUN(test_kill);
	RUN(test_cancel_and_redraw);
	RUN(test_escapes_swallowed);
	RUN(test_full);
	RUN(test_history);
	RUN(test_no_history);
	RUN(test_tab);
	return test_report();
}
