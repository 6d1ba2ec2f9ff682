/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qemu-virt-riscv64 entry and trap vector.
 *
 * OpenSBI enters _start in S-mode with a0 = hart id and a1 = the device
 * tree (the SBI boot protocol), with the MMU off. The first hart to get
 * here runs the firmware; any other parks in wfi for good.
 */
#define SSTATUS_SIE (1 << 1)
#define SSTATUS_FS_INITIAL (1 << 13)

/* Trap frame: x0..x31 (x0's slot unused), four CSRs, f0..f31, fcsr. */
#define FRAME_X(n) ((n) * 8)
#define FRAME_SEPC (32 * 8)
#define FRAME_SSTATUS (33 * 8)
#define FRAME_SCAUSE (34 * 8)
#define FRAME_STVAL (35 * 8)
#define FRAME_F(n) ((36 + (n)) * 8)
#define FRAME_FCSR (68 * 8)
#define FRAME_SIZE (70 * 8) /* keeps sp 16-byte aligned */

	.section .text.entry, "ax", %progbits
	.globl _start
_start:
	csrw	sie, zero
	csrci	sstatus, SSTATUS_SIE
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop

	/* One winner; the lottery word is in .data, so it starts at 0. */
	la	t0, boot_lottery
	li	t1, 1
	amoadd.w t1, t1, (t0)
	bnez	t1, park

	/* Clear .bss (the stack is part of it) before anything uses it. */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:
	la	sp, __stack_top
	la	t0, riscv_boot_hart
	sd	a0, 0(t0)
	mv	s0, a1

	/* picolibc and gcc may use the FPU (lp64d): turn it on. */
	li	t0, SSTATUS_FS_INITIAL
	csrs	sstatus, t0
	fscsr	zero

	/* picolibc keeps errno in TLS: point tp at the block, then fill it. */
	la	a0, __tls_base
	call	_set_tls
	la	a0, __tls_base
	call	_init_tls

	la	t0, riscv_trap_entry
	csrw	stvec, t0

	mv	a0, s0
	call	board_init
	call	main
	call	board_exit

park:
	wfi
	j	park

/*
 * Every trap, in direct mode: save all registers on the current stack, call
 * riscv_trap(frame), restore and return. Interrupts stay masked throughout
 * (the hardware clears sstatus.SIE on entry; sret restores it from SPIE).
 */
	.text
	.balign 4
	.globl riscv_trap_entry
riscv_trap_entry:
	addi	sp, sp, -FRAME_SIZE
	sd	x1, FRAME_X(1)(sp)
	sd	x3, FRAME_X(3)(sp)
	sd	x4, FRAME_X(4)(sp)
	sd	x5, FRAME_X(5)(sp)
	addi	x5, sp, FRAME_SIZE
	sd	x5, FRAME_X(2)(sp)	/* sp as it was */
	sd	x6, FRAME_X(6)(sp)
	sd	x7, FRAME_X(7)(sp)
	sd	x8, FRAME_X(8)(sp)
	sd	x9, FRAME_X(9)(sp)
	sd	x10, FRAME_X(10)(sp)
	sd	x11, FRAME_X(11)(sp)
	sd	x12, FRAME_X(12)(sp)
	sd	x13, FRAME_X(13)(sp)
	sd	x14, FRAME_X(14)(sp)
	sd	x15, FRAME_X(15)(sp)
	sd	x16, FRAME_X(16)(sp)
	sd	x17, FRAME_X(17)(sp)
	sd	x18, FRAME_X(18)(sp)
	sd	x19, FRAME_X(19)(sp)
	sd	x20, FRAME_X(20)(sp)
	sd	x21, FRAME_X(21)(sp)
	sd	x22, FRAME_X(22)(sp)
	sd	x23, FRAME_X(23)(sp)
	sd	x24, FRAME_X(24)(sp)
	sd	x25, FRAME_X(25)(sp)
	sd	x26, FRAME_X(26)(sp)
	sd	x27, FRAME_X(27)(sp)
	sd	x28, FRAME_X(28)(sp)
	sd	x29, FRAME_X(29)(sp)
	sd	x30, FRAME_X(30)(sp)
	sd	x31, FRAME_X(31)(sp)
	csrr	t0, sepc
	sd	t0, FRAME_SEPC(sp)
	csrr	t0, sstatus
	sd	t0, FRAME_SSTATUS(sp)
	csrr	t0, scause
	sd	t0, FRAME_SCAUSE(sp)
	csrr	t0, stval
	sd	t0, FRAME_STVAL(sp)
	/* The C handler may touch FP registers too: save them all. */
	fsd	f0, FRAME_F(0)(sp)
	fsd	f1, FRAME_F(1)(sp)
	fsd	f2, FRAME_F(2)(sp)
	fsd	f3, FRAME_F(3)(sp)
	fsd	f4, FRAME_F(4)(sp)
	fsd	f5, FRAME_F(5)(sp)
	fsd	f6, FRAME_F(6)(sp)
	fsd	f7, FRAME_F(7)(sp)
	fsd	f8, FRAME_F(8)(sp)
	fsd	f9, FRAME_F(9)(sp)
	fsd	f10, FRAME_F(10)(sp)
	fsd	f11, FRAME_F(11)(sp)
	fsd	f12, FRAME_F(12)(sp)
	fsd	f13, FRAME_F(13)(sp)
	fsd	f14, FRAME_F(14)(sp)
	fsd	f15, FRAME_F(15)(sp)
	fsd	f16, FRAME_F(16)(sp)
	fsd	f17, FRAME_F(17)(sp)
	fsd	f18, FRAME_F(18)(sp)
	fsd	f19, FRAME_F(19)(sp)
	fsd	f20, FRAME_F(20)(sp)
	fsd	f21, FRAME_F(21)(sp)
	fsd	f22, FRAME_F(22)(sp)
	fsd	f23, FRAME_F(23)(sp)
	fsd	f24, FRAME_F(24)(sp)
	fsd	f25, FRAME_F(25)(sp)
	fsd	f26, FRAME_F(26)(sp)
	fsd	f27, FRAME_F(27)(sp)
	fsd	f28, FRAME_F(28)(sp)
	fsd	f29, FRAME_F(29)(sp)
	fsd	f30, FRAME_F(30)(sp)
	fsd	f31, FRAME_F(31)(sp)
	frcsr	t0
	sd	t0, FRAME_FCSR(sp)

	mv	a0, sp
	call	riscv_trap

	ld	t0, FRAME_FCSR(sp)
	fscsr	t0
	fld	f0, FRAME_F(0)(sp)
	fld	f1, FRAME_F(1)(sp)
	fld	f2, FRAME_F(2)(sp)
	fld	f3, FRAME_F(3)(sp)
	fld	f4, FRAME_F(4)(sp)
	fld	f5, FRAME_F(5)(sp)
	fld	f6, FRAME_F(6)(sp)
	fld	f7, FRAME_F(7)(sp)
	fld	f8, FRAME_F(8)(sp)
	fld	f9, FRAME_F(9)(sp)
	fld	f10, FRAME_F(10)(sp)
	fld	f11, FRAME_F(11)(sp)
	fld	f12, FRAME_F(12)(sp)
	fld	f13, FRAME_F(13)(sp)
	fld	f14, FRAME_F(14)(sp)
	fld	f15, FRAME_F(15)(sp)
	fld	f16, FRAME_F(16)(sp)
	fld	f17, FRAME_F(17)(sp)
	fld	f18, FRAME_F(18)(sp)
	fld	f19, FRAME_F(19)(sp)
	fld	f20, FRAME_F(20)(sp)
	fld	f21, FRAME_F(21)(sp)
	fld	f22, FRAME_F(22)(sp)
	fld	f23, FRAME_F(23)(sp)
	fld	f24, FRAME_F(24)(sp)
	fld	f25, FRAME_F(25)(sp)
	fld	f26, FRAME_F(26)(sp)
	fld	f27, FRAME_F(27)(sp)
	fld	f28, FRAME_F(28)(sp)
	fld	f29, FRAME_F(29)(sp)
	fld	f30, FRAME_F(30)(sp)
	fld	f31, FRAME_F(31)(sp)
	/* The handler may have moved sepc past an instruction. */
	ld	t0, FRAME_SEPC(sp)
	csrw	sepc, t0
	ld	t0, FRAME_SSTATUS(sp)
	csrw	sstatus, t0
	ld	x1, FRAME_X(1)(sp)
	ld	x3, FRAME_X(3)(sp)
	ld	x4, FRAME_X(4)(sp)
	ld	x5, FRAME_X(5)(sp)
	ld	x6, FRAME_X(6)(sp)
	ld	x7, FRAME_X(7)(sp)
	ld	x8, FRAME_X(8)(sp)
	ld	x9, FRAME_X(9)(sp)
	ld	x10, FRAME_X(10)(sp)
	ld	x11, FRAME_X(11)(sp)
	ld	x12, FRAME_X(12)(sp)
	ld	x13, FRAME_X(13)(sp)
	ld	x14, FRAME_X(14)(sp)
	ld	x15, FRAME_X(15)(sp)
	ld	x16, FRAME_X(16)(sp)
	ld	x17, FRAME_X(17)(sp)
	ld	x18, FRAME_X(18)(sp)
	ld	x19, FRAME_X(19)(sp)
	ld	x20, FRAME_X(20)(sp)
	ld	x21, FRAME_X(21)(sp)
	ld	x22, FRAME_X(22)(sp)
	ld	x23, FRAME_X(23)(sp)
	ld	x24, FRAME_X(24)(sp)
	ld	x25, FRAME_X(25)(sp)
	ld	x26, FRAME_X(26)(sp)
	ld	x27, FRAME_X(27)(sp)
	ld	x28, FRAME_X(28)(sp)
	ld	x29, FRAME_X(29)(sp)
	ld	x30, FRAME_X(30)(sp)
	ld	x31, FRAME_X(31)(sp)
	addi	sp, sp, FRAME_SIZE
	sret

	.data
	.balign 4
boot_lottery:
	.word	0
