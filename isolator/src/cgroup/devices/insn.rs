//! [`BpfInsn`]: one eBPF instruction as the kernel reads it (`struct
//! bpf_insn`), and constructors for the few opcodes the device filter uses.

/// `BPF_LDX | BPF_MEM | BPF_W`: `dst = *(u32 *)(src + off)`.
pub const LDX_MEM_W: u8 = 0x61;
/// `BPF_ALU | BPF_AND | BPF_K`: `dst = (u32)(dst & imm)`.
pub const ALU32_AND_K: u8 = 0x54;
/// `BPF_ALU | BPF_RSH | BPF_K`: `dst = (u32)dst >> imm`.
pub const ALU32_RSH_K: u8 = 0x74;
/// `BPF_ALU | BPF_MOV | BPF_X`: `dst = (u32)src`.
pub const ALU32_MOV_X: u8 = 0xbc;
/// `BPF_ALU64 | BPF_MOV | BPF_K`: `dst = (s64)imm`.
pub const ALU64_MOV_K: u8 = 0xb7;
/// `BPF_JMP | BPF_JNE | BPF_K`: `if dst != (s64)imm goto pc + 1 + off`.
pub const JMP_JNE_K: u8 = 0x55;
/// `BPF_JMP | BPF_JNE | BPF_X`: `if dst != src goto pc + 1 + off`.
pub const JMP_JNE_X: u8 = 0x5d;
/// `BPF_JMP | BPF_EXIT`: return `r0`.
pub const JMP_EXIT: u8 = 0x95;

/// Register numbers (`BPF_REG_0` .. `BPF_REG_5`): r0 is the return value,
/// r1 the context pointer on entry.
pub const R0: u8 = 0;
/// The context pointer on entry, later a scratch register.
pub const R1: u8 = 1;
/// Device type, by the filter's convention.
pub const R2: u8 = 2;
/// Requested access, by the filter's convention.
pub const R3: u8 = 3;
/// Major, by the filter's convention.
pub const R4: u8 = 4;
/// Minor, by the filter's convention.
pub const R5: u8 = 5;

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`:
/// `u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm;`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BpfInsn {
    /// Opcode: class, operation and source (`BPF_K` immediate, `BPF_X` register).
    pub code: u8,
    /// The two 4-bit register fields, as C bitfields place them.
    regs: u8,
    /// Jump offset (in instructions, from the next one) or memory offset.
    pub off: i16,
    /// Immediate operand.
    pub imm: i32,
}

const _: () = assert!(size_of::<BpfInsn>() == 8);

impl BpfInsn {
    /// An instruction from its fields.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
        // C bitfields fill a byte from its least significant bit on
        // little-endian targets and from its most significant on big-endian.
        let regs = if cfg!(target_endian = "little") {
            (dst & 0xf) | (src << 4)
        } else {
            (dst << 4) | (src & 0xf)
        };
        BpfInsn {
            code,
            regs,
            off,
            imm,
        }
    }

    /// The destination register.
    pub const fn dst(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs & 0xf
        } else {
            self.regs >> 4
        }
    }

    /// The source register.
    pub const fn src(&self) -> u8 {
        if cfg!(target_endian = "little") {
            self.regs >> 4
        } else {
            self.regs & 0xf
        }
    }

    /// `dst = *(u32 *)(src + off)`.
    pub const fn load_word(dst: u8, src: u8, off: i16) -> BpfInsn {
        BpfInsn::new(LDX_MEM_W, dst, src, off, 0)
    }

    /// `dst &= imm` (32-bit).
    pub const fn and32(dst: u8, imm: i32) -> BpfInsn {
        BpfInsn::new(ALU32_AND_K, dst, 0, 0, imm)
    }

    /// `dst >>= imm` (32-bit, logical).
    pub const fn rsh32(dst: u8, imm: i32) -> BpfInsn {
        BpfInsn::new(ALU32_RSH_K, dst, 0, 0, imm)
    }

    /// `dst = src` (32-bit).
    pub const fn mov32_reg(dst: u8, src: u8) -> BpfInsn {
        BpfInsn::new(ALU32_MOV_X, dst, src, 0, 0)
    }

    /// `dst = imm` (64-bit).
    pub const fn mov64_imm(dst: u8, imm: i32) -> BpfInsn {
        BpfInsn::new(ALU64_MOV_K, dst, 0, 0, imm)
    }

    /// `if dst != imm skip off instructions`.
    pub const fn jne_imm(dst: u8, imm: i32, off: i16) -> BpfInsn {
        BpfInsn::new(JMP_JNE_K, dst, 0, off, imm)
    }

    /// `if dst != src skip off instructions`.
    pub const fn jne_reg(dst: u8, src: u8, off: i16) -> BpfInsn {
        BpfInsn::new(JMP_JNE_X, dst, src, off, 0)
    }

    /// `return r0`.
    pub const fn exit() -> BpfInsn {
        BpfInsn::new(JMP_EXIT, 0, 0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_insn_registers_round_trip() {
        let i = BpfInsn::jne_reg(R1, R3, 7);
        assert_eq!((i.code, i.dst(), i.src(), i.off, i.imm), (0x5d, 1, 3, 7, 0));
        if cfg!(target_endian = "little") {
            // As the kernel's BPF_JMP_REG(BPF_JNE, BPF_REG_1, BPF_REG_3, 7) lays it out.
            assert_eq!(i.regs, 0x31);
        }
    }
}
