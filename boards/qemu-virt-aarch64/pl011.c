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

static uintptr_t uart;

/*
 * 8N1 with FIFOs, no interrupts. The baud rate divisors are left as the
 * firmware before us set them (QEMU ignores them).
 */
void pl011_init(uintptr_t base)
{
	mmio_write32(base + UARTCR, 0);
	mmio_write32(base + UARTIMSC, 0);
	mmio_write32(base + UARTICR, 0x7ff);
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
	if (!uart || (mmio_read32(uart + UARTFR) & FR_RXFE))
		return -1;
	return (int)(mmio_read32(uart + UARTDR) & 0xff);
}
