/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shell's second keyboard: key presses on the first virtio keyboard
 * become the bytes a terminal would send for them, and stdin reads them
 * beside the UART's (board_stdio_extra_input). So a window that shows the
 * GPU's scanout (make run GUI=1) takes the shell's input too.
 *
 * virtio-input passes Linux input event codes (VirtIO 1.2 5.8.6.2: "the
 * event codes ... are those of the Linux input layer"); the layout is US.
 * Shift and Caps Lock pick capitals, Ctrl a control byte; arrows, Home,
 * End and Delete become the ANSI sequences line.c takes from a terminal.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vio/input.h>
#include <vio/spec/virtio_config.h>
#include <vio/spec/virtio_input.h>

#include "vio_config.h"

#include "board.h"
#include "shell.h"

#if CONFIG_VIO_DRIVER_INPUT

/* Linux input-event-codes.h: the keys this file names, beside KEY_ESC and KEY_A. */
enum {
	CODE_LEFTCTRL = 29,
	CODE_LEFTSHIFT = 42,
	CODE_RIGHTSHIFT = 54,
	CODE_KP7 = 71,
	CODE_KPDOT = 83,
	CODE_KPENTER = 96,
	CODE_RIGHTCTRL = 97,
	CODE_KPSLASH = 98,
	CODE_HOME = 102,
	CODE_UP = 103,
	CODE_LEFT = 105,
	CODE_RIGHT = 106,
	CODE_END = 107,
	CODE_DOWN = 108,
	CODE_DELETE = 111,
};

/* Codes 0..57 (KEY_SPACE) on a US keyboard, without and with Shift; 0: no byte. */
#define TABLE 58
static const char plain[TABLE + 1] =
	"\0\0331234567890-=\177\tqwertyuiop[]\r\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
static const char shifted[TABLE + 1] =
	"\0\033!@#$%^&*()_+\177\tQWERTYUIOP{}\r\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";
_Static_assert(sizeof(plain) == TABLE + 1 && sizeof(shifted) == TABLE + 1,
	       "one byte per key code");
/* The keypad from KP7 to KPDOT, as with Num Lock on. */
static const char keypad[] = "789-456+1230.";

static struct vio_device *kbd;
static bool shift_l, shift_r, ctrl_l, ctrl_r, caps;
/* Bytes of a key not yet read: an escape sequence is up to four. */
static char pending[4];
static unsigned npending, next;

static void put(const char *s)
{
	npending = 0;
	next = 0;
	while (*s && npending < sizeof(pending))
		pending[npending++] = *s++;
}

static void key(unsigned code, int32_t value)
{
	bool down = value != 0; /* 1 pressed, 2 auto-repeat, 0 released */
	char c = 0;

	switch (code) {
	case CODE_LEFTSHIFT: shift_l = down; return;
	case CODE_RIGHTSHIFT: shift_r = down; return;
	case CODE_LEFTCTRL: ctrl_l = down; return;
	case CODE_RIGHTCTRL: ctrl_r = down; return;
	default: break;
	}
	if (!down)
		return;
	switch (code) {
	case KEY_CAPSLOCK: caps = !caps; return;
	case CODE_UP: put("\033[A"); return;
	case CODE_DOWN: put("\033[B"); return;
	case CODE_RIGHT: put("\033[C"); return;
	case CODE_LEFT: put("\033[D"); return;
	case CODE_HOME: put("\033[H"); return;
	case CODE_END: put("\033[F"); return;
	case CODE_DELETE: put("\033[3~"); return;
	case CODE_KPENTER: c = '\r'; break;
	case CODE_KPSLASH: c = '/'; break;
	default:
		if (code >= CODE_KP7 && code <= CODE_KPDOT)
			c = keypad[code - CODE_KP7];
		else if (code < TABLE)
			c = (shift_l || shift_r) ? shifted[code] : plain[code];
		break;
	}
	if (!c)
		return;
	if (caps && c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	else if (caps && c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	if ((ctrl_l || ctrl_r) && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
		c = (char)(c & 0x1f);
	pending[0] = c;
	npending = 1;
	next = 0;
}

/* board_stdio_extra_input's source: a byte, or -1 when no key is waiting. */
static int keys_getc(void)
{
	while (next == npending) {
		struct vio_input_event ev;

		if (vio_input_read_nonblock(kbd, &ev, 1) != 1)
			return -1;
		npending = next = 0;
		if (ev.type == EV_KEY)
			key(ev.code, ev.value);
	}
	return (unsigned char)pending[next++];
}

void shell_keys_start(void)
{
	struct vio_device *dev;

	for (unsigned i = 0; (dev = vio_dev_find(VIRTIO_ID_INPUT, i)) != NULL; i++) {
		struct vio_input_info info;

		if (vio_input_get_info(dev, &info) == 0 && info.kind == VIO_INPUT_KEYBOARD) {
			kbd = dev;
			board_stdio_extra_input(keys_getc);
			return;
		}
	}
}

#else

void shell_keys_start(void)
{
}

#endif
