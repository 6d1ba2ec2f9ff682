/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry point. The firmware is booted as a raw arm64 Linux Image: QEMU's
 * loader (and U-Boot's booti) reads the header below, loads the image at
 * RAM base + text_offset and enters it at EL1 (or EL2) with the MMU off and
 * x0 = the device tree's address (Documentation/arm64/booting.rst).
 */

#define SCTLR_EL1_RES1 0x30d00800 /* bits 29, 28, 23, 22, 20, 11 (ARMv8.0) */

	.section .text.head, "ax"
	.globl	_start
_start:
	/* Image header: code0, code1, then the fields at fixed offsets. */
	b	entry
	nop
	.quad	0x80000			/* text_offset from a 2 MiB aligned base */
	.quad	__image_size		/* image_size: all of it, bss and stacks too */
	.quad	(1 << 1)		/* flags: little endian, 4 KiB pages */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.quad	0			/* res4 */
	.ascii	"ARM\x64"		/* magic */
	.word	0			/* res5: no PE/COFF header */

	.section .text.boot, "ax"
entry:
	mov	x19, x0			/* the device tree, in a callee-saved register */
	msr	daifset, #0xf

	/* Only CPU 0 runs; the others (if a loader started them) wait forever. */
	mrs	x1, mpidr_el1
	mov	x2, #0xffffff		/* Aff2..Aff0 */
	movk	x2, #0xff, lsl #32	/* Aff3 */
	tst	x1, x2
	b.ne	park

	mrs	x1, CurrentEL
	ubfx	x1, x1, #2, #2
	cmp	x1, #1
	b.eq	at_el1
	cmp	x1, #2
	b.ne	bad_el

	/*
	 * EL2 (virtualization=on): hand EL1 the machine and drop to it.
	 * HCR_EL2: only RW (EL1 is AArch64); nothing trapped, interrupts to EL1.
	 */
	mov	x1, #(1 << 31)
	msr	hcr_el2, x1
	mrs	x1, cnthctl_el2
	orr	x1, x1, #3		/* EL1PCTEN, EL1PCEN: physical timer at EL1 */
	msr	cnthctl_el2, x1
	msr	cntvoff_el2, xzr	/* virtual counter = physical counter */
	mov	x1, #0x33ff		/* CPTR_EL2: RES1 bits, FP/SIMD not trapped */
	msr	cptr_el2, x1
	msr	hstr_el2, xzr
	mrs	x1, midr_el1
	msr	vpidr_el2, x1
	mrs	x1, mpidr_el1
	msr	vmpidr_el2, x1
	mov	x1, #(SCTLR_EL1_RES1 & 0xffff)
	movk	x1, #(SCTLR_EL1_RES1 >> 16), lsl #16
	msr	sctlr_el1, x1		/* MMU and caches off at EL1 until mmu_init */
	mov	x1, #0x3c5		/* SPSR: EL1h, D, A, I, F masked */
	msr	spsr_el2, x1
	adr	x1, at_el1
	msr	elr_el2, x1
	eret

at_el1:
	adrp	x1, __stack_top
	add	x1, x1, :lo12:__stack_top
	mov	sp, x1

	/*
	 * Zero .tbss and .bss. The MMU is off, so memory is Device memory:
	 * only aligned stores here (the linker script aligns both ends to 16).
	 */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:
	/* FP/SIMD on (CPACR_EL1.FPEN = 0b11): picolibc's printf uses the FP registers. */
	mov	x1, #(3 << 20)
	msr	cpacr_el1, x1
	isb

	adrp	x1, virt_vectors
	add	x1, x1, :lo12:virt_vectors
	msr	vbar_el1, x1
	isb

	/*
	 * Identity map and caches on before any library code: with the MMU off
	 * every access is Device memory, where picolibc's unaligned
	 * memcpy/printf accesses fault.
	 */
	mov	x0, x19
	bl	mmu_init

	/*
	 * Thread pointer for picolibc's TLS (errno). The image was loaded in
	 * place, so .tdata already holds its initial values and .tbss was
	 * zeroed above: only TPIDR_EL0 needs setting.
	 */
	adrp	x0, __tls_base
	add	x0, x0, :lo12:__tls_base
	bl	_set_tls
	bl	__libc_init_array

	mov	x0, x19
	bl	board_init
	bl	main
	bl	board_exit

park:
	wfe
	b	park

bad_el:
	/* EL3: not a boot state QEMU's -kernel produces; say so and stop. */
	adrp	x1, __stack_top
	add	x1, x1, :lo12:__stack_top
	mov	sp, x1
	adrp	x0, bad_el_msg
	add	x0, x0, :lo12:bad_el_msg
	bl	semihost_write0
	mov	x0, #1
	bl	semihost_exit

	.section .rodata.boot, "a"
bad_el_msg:
	.asciz	"qemu-virt-aarch64: entered at EL3; boot at EL1 or EL2\n"
