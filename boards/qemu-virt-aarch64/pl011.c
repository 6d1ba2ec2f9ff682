/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console: an Arm PL011 UART ("arm,pl011"), polled. Register offsets
 * and bits from the PrimeCell UART (PL011) Technical Reference Manual, 3.2.
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "virt.h"

#define UARTDR 0x00
#define UARTFR 0x18
#define UARTLCR_H 0x2c
#define UARTCR 0x30
#define UARTIMSC 0x38
#define UARTICR 0x44

#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define LCR_H_FEN (1u << 4)
#define LCR_H_WLEN8 (3u << 5)
#define CR_UARTEN (1u << 0)
#define CR_TXE (1u << 8)
#define CR_RXE (1u << 9)

/* The receive FIFO's depth: the most the UART can hold when init runs. */
#define EARLY_RX_MAX 16

static uintptr_t uart;

/* What the receiver held when init ran, handed out before newer input. */
static uint8_t early_rx[EARLY_RX_MAX];
static unsigned early_len, early_pos;

/*
 * 8N1 with FIFOs, no interrupts. The baud rate divisors are left as the
 * firmware before us set them (QEMU ignores them).
 *
 * Input typed before this runs is kept. QEMU resets its receive FIFO
 * whenever UARTLCR_H.FEN changes (and the TRM flushes the transmit FIFO
 * that way, 3.3.8), so what the receiver holds is copied into a small
 * buffer first, with nothing between the last read and the UARTLCR_H
 * write. QEMU hands over no more than the UART holds, so nothing else is
 * waiting.
 */
void pl011_init(uintptr_t base)
{
	mmio_write32(base + UARTCR, 0);
	mmio_write32(base + UARTIMSC, 0);
	mmio_write32(base + UARTICR, 0x7ff);
	early_len = 0;
	early_pos = 0;
	while (early_len < EARLY_RX_MAX && !(mmio_read32(base + UARTFR) & FR_RXFE))
		early_rx[early_len++] = (uint8_t)mmio_read32(base + UARTDR);
	mmio_write32(base + UARTLCR_H, LCR_H_FEN | LCR_H_WLEN8);
	mmio_write32(base + UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
	uart = base;
}

/* Wait until the last byte has left the transmitter (before exiting QEMU). */
void pl011_flush(void)
{
	if (uart)
		while (mmio_read32(uart + UARTFR) & FR_BUSY)
			;
}

/* Before the device tree names the UART, text goes to the semihosting console. */
static void early_write(const char *buf, size_t len)
{
	char chunk[64];

	while (len) {
		size_t n = len < sizeof(chunk) - 1 ? len : sizeof(chunk) - 1;

		for (size_t i = 0; i < n; i++)
			chunk[i] = buf[i] ? buf[i] : ' ';
		chunk[n] = 0;
		semihost_write0(chunk);
		buf += n;
		len -= n;
	}
}

void board_console_write(const char *buf, size_t len)
{
	if (!uart) {
		early_write(buf, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		while (mmio_read32(uart + UARTFR) & FR_TXFF)
			;
		mmio_write32(uart + UARTDR, (uint8_t)buf[i]);
	}
}

int board_console_getc(void)
{
	/* Input that was waiting at init came first. */
	if (early_pos < early_len)
		return early_rx[early_pos++];
	if (!uart || (mmio_read32(uart + UARTFR) & FR_RXFE))
		return -1;
	return (int)(mmio_read32(uart + UARTDR) & 0xff);
}
