/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console: an NS16550A-compatible UART, polled (its interrupt is not
 * used). Register layout per the 16550 data sheet; reg-shift and
 * reg-io-width from the device tree's binding (QEMU: 0 and 1).
 *
 * Input typed before this driver starts is kept: the firmware before us
 * (OpenSBI) does not read the console unless asked, so what arrived after
 * its own set-up is still in the UART (QEMU hands over no more than the UART
 * holds), and set-up here must not throw it away. Changing FCR's
 * FIFO-enable bit clears both FIFOs (data sheet; QEMU does the same) and the
 * receive-reset bit clears the receive FIFO, so init copies what the
 * receiver holds into a small buffer before it writes FCR, and never sets
 * the reset bits. (A byte already waiting when OpenSBI set the UART up was
 * cleared by OpenSBI's own FIFO enable, before this code runs.)
 */
#include "riscv.h"

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define DLL 0 /* divisor latch, low byte (LCR.DLAB = 1) */
#define IER 1 /* interrupt enable */
#define DLM 1 /* divisor latch, high byte (LCR.DLAB = 1) */
#define FCR 2 /* FIFO control (write) */
#define LCR 3 /* line control */
#define MCR 4 /* modem control */
#define LSR 5 /* line status */

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE 0x01 /* enable the FIFOs; no reset bits, trigger level 1 */
#define MCR_DTR_RTS 0x03
#define LSR_DR 0x01   /* a byte is waiting */
#define LSR_THRE 0x20 /* room in the transmitter */
#define LSR_TEMT 0x40 /* transmitter empty (holding register and shift register) */

/* The receive FIFO's depth: the most the UART can hold when init runs. */
#define EARLY_RX_MAX 16

#define BAUD 115200

static uintptr_t base;
static unsigned shift;
static unsigned width;

/* What the receiver held when init ran, handed out before newer input. */
static uint8_t early_rx[EARLY_RX_MAX];
static unsigned early_len, early_pos;

static uint8_t rd(unsigned reg)
{
	uintptr_t a = base + ((uintptr_t)reg << shift);

	if (width == 4)
		return (uint8_t) * (volatile uint32_t *)a;
	return *(volatile uint8_t *)a;
}

static void wr(unsigned reg, uint8_t v)
{
	uintptr_t a = base + ((uintptr_t)reg << shift);

	if (width == 4)
		*(volatile uint32_t *)a = v;
	else
		*(volatile uint8_t *)a = v;
}

int ns16550_init(const struct fdt *fdt, int node, uintptr_t reg)
{
	uint32_t v, clock;

	shift = 0;
	width = 1;
	if (fdt_getprop_u32(fdt, node, "reg-shift", &v) == 0) {
		if (v > 4)
			return FDT_EBADVALUE;
		shift = v;
	}
	if (fdt_getprop_u32(fdt, node, "reg-io-width", &v) == 0) {
		if (v != 1 && v != 4)
			return FDT_EBADVALUE;
		width = v;
	}
	base = reg;

	/* DLAB off first: with it set, offsets 0 and 1 reach the divisor, not RBR and IER. */
	wr(LCR, LCR_8N1);
	wr(IER, 0);
	/* Program the divisor when the input clock is known (QEMU ignores it). */
	if (fdt_getprop_u32(fdt, node, "clock-frequency", &clock) == 0 && clock >= 16 * BAUD) {
		uint32_t div = clock / (16 * BAUD);

		wr(LCR, LCR_DLAB);
		wr(DLL, (uint8_t)div);
		wr(DLM, (uint8_t)(div >> 8));
		wr(LCR, LCR_8N1);
	}
	/*
	 * If the FIFOs are still off, enabling them clears the transmitter
	 * too: let the firmware's last output leave first.
	 */
	while (!(rd(LSR) & LSR_TEMT))
		;
	/*
	 * Keep what the receiver holds. When the firmware already enabled the
	 * FIFOs (OpenSBI does) the FCR write below changes nothing and a byte
	 * arriving meanwhile stays in the FIFO; when they are off, it clears
	 * the holding register, so nothing may come between the last read
	 * here and that write. Bounded by the FIFO's depth: anything beyond it
	 * is still in the UART, which is not reset.
	 */
	early_len = 0;
	early_pos = 0;
	while (early_len < EARLY_RX_MAX && (rd(LSR) & LSR_DR))
		early_rx[early_len++] = rd(RBR);
	wr(FCR, FCR_ENABLE);
	wr(MCR, MCR_DTR_RTS);
	return 0;
}

bool ns16550_ready(void)
{
	return base != 0;
}

void ns16550_putc(char c)
{
	while (!(rd(LSR) & LSR_THRE))
		;
	wr(THR, (uint8_t)c);
}

int ns16550_getc(void)
{
	/* Input that was waiting at init came first. */
	if (early_pos < early_len)
		return early_rx[early_pos++];
	if (!(rd(LSR) & LSR_DR))
		return -1;
	return rd(RBR);
}
