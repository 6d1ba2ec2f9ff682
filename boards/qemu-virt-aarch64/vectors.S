/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exception vectors (VBAR_EL1). The firmware runs at EL1 on SP_EL1, so the
 * only expected exception is an IRQ from the current EL with SP_ELx: it goes
 * to the GIC dispatcher. Every other entry is a bug; it saves all registers
 * on a stack of its own (the one in use may be what broke) and reports.
 */

/* struct trap_frame in trap.c */
#define TF_SP	248
#define TF_ELR	256
#define TF_ESR	272
#define TF_SIZE	288

/*
 * The IRQ frame: caller-saved general registers, ELR/SPSR, and the
 * caller-saved FP/SIMD state, because the interrupted code may be in
 * picolibc's string or stdio routines, which use the SIMD registers, while
 * a handler may call them too.
 */
#define IF_X30	160
#define IF_SPSR	176
#define IF_FPCR	192
#define IF_Q0	208
#define IF_Q16	336
#define IF_SIZE	592

/* Any entry but the expected one: stash x0 and the vector number, report. */
.macro unexpected kind
	.balign	0x80
	msr	tpidr_el1, x0
	mov	x0, #\kind
	msr	tpidrro_el0, x0
	b	unexpected_common
.endm

	.section .text.vectors, "ax"
	.balign	2048
	.globl	virt_vectors
virt_vectors:
	/* current EL with SP_EL0: sync, IRQ, FIQ, SError */
	unexpected 0
	unexpected 1
	unexpected 2
	unexpected 3
	/* current EL with SP_ELx */
	unexpected 4
	.balign	0x80
	b	irq_entry
	unexpected 6
	unexpected 7
	/* lower EL, AArch64 */
	unexpected 8
	unexpected 9
	unexpected 10
	unexpected 11
	/* lower EL, AArch32 */
	unexpected 12
	unexpected 13
	unexpected 14
	unexpected 15

irq_entry:
	sub	sp, sp, #IF_SIZE
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x29, [sp, #144]
	mrs	x0, elr_el1
	stp	x30, x0, [sp, #IF_X30]
	mrs	x0, spsr_el1
	mrs	x1, fpsr
	stp	x0, x1, [sp, #IF_SPSR]
	mrs	x0, fpcr
	str	x0, [sp, #IF_FPCR]
	stp	q0, q1, [sp, #IF_Q0]
	stp	q2, q3, [sp, #IF_Q0 + 32]
	stp	q4, q5, [sp, #IF_Q0 + 64]
	stp	q6, q7, [sp, #IF_Q0 + 96]
	stp	q16, q17, [sp, #IF_Q16]
	stp	q18, q19, [sp, #IF_Q16 + 32]
	stp	q20, q21, [sp, #IF_Q16 + 64]
	stp	q22, q23, [sp, #IF_Q16 + 96]
	stp	q24, q25, [sp, #IF_Q16 + 128]
	stp	q26, q27, [sp, #IF_Q16 + 160]
	stp	q28, q29, [sp, #IF_Q16 + 192]
	stp	q30, q31, [sp, #IF_Q16 + 224]

	bl	trap_irq

	ldp	q0, q1, [sp, #IF_Q0]
	ldp	q2, q3, [sp, #IF_Q0 + 32]
	ldp	q4, q5, [sp, #IF_Q0 + 64]
	ldp	q6, q7, [sp, #IF_Q0 + 96]
	ldp	q16, q17, [sp, #IF_Q16]
	ldp	q18, q19, [sp, #IF_Q16 + 32]
	ldp	q20, q21, [sp, #IF_Q16 + 64]
	ldp	q22, q23, [sp, #IF_Q16 + 96]
	ldp	q24, q25, [sp, #IF_Q16 + 128]
	ldp	q26, q27, [sp, #IF_Q16 + 160]
	ldp	q28, q29, [sp, #IF_Q16 + 192]
	ldp	q30, q31, [sp, #IF_Q16 + 224]
	ldr	x0, [sp, #IF_FPCR]
	msr	fpcr, x0
	ldp	x0, x1, [sp, #IF_SPSR]
	msr	spsr_el1, x0
	msr	fpsr, x1
	ldp	x30, x0, [sp, #IF_X30]
	msr	elr_el1, x0
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x29, [sp, #144]
	add	sp, sp, #IF_SIZE
	eret

unexpected_common:
	adrp	x0, __trap_stack_top
	add	x0, x0, :lo12:__trap_stack_top
	sub	x0, x0, #TF_SIZE
	stp	x1, x2, [x0, #8]
	stp	x3, x4, [x0, #24]
	stp	x5, x6, [x0, #40]
	stp	x7, x8, [x0, #56]
	stp	x9, x10, [x0, #72]
	stp	x11, x12, [x0, #88]
	stp	x13, x14, [x0, #104]
	stp	x15, x16, [x0, #120]
	stp	x17, x18, [x0, #136]
	stp	x19, x20, [x0, #152]
	stp	x21, x22, [x0, #168]
	stp	x23, x24, [x0, #184]
	stp	x25, x26, [x0, #200]
	stp	x27, x28, [x0, #216]
	stp	x29, x30, [x0, #232]
	mrs	x1, tpidr_el1
	str	x1, [x0]
	mov	x1, sp
	str	x1, [x0, #TF_SP]
	mrs	x1, elr_el1
	mrs	x2, spsr_el1
	stp	x1, x2, [x0, #TF_ELR]
	mrs	x1, esr_el1
	mrs	x2, far_el1
	stp	x1, x2, [x0, #TF_ESR]
	mov	sp, x0
	mrs	x1, tpidrro_el0
	bl	trap_unexpected
1:	wfi
	b	1b
