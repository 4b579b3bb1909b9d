//! A test-only eBPF interpreter for the instructions the device filter
//! compiler emits, with the checks of the kernel's verifier that matter for
//! them: every instruction reachable, jumps forward and in range, no read of
//! an unset register, loads only from the context, the program ends in exit.

use super::insn::*;

/// Runs `prog` on the context `{access_type, major, minor}`; returns r0.
pub fn run(prog: &[BpfInsn], ctx: [u32; 3]) -> u64 {
    let mut reg = [None::<u64>; 11];
    let mut is_ctx = [false; 11];
    reg[1] = Some(0);
    is_ctx[1] = true;
    let mut pc = 0;
    loop {
        let i = prog
            .get(pc)
            .unwrap_or_else(|| panic!("fell off the end at {pc}"));
        let (d, s) = (usize::from(i.dst()), usize::from(i.src()));
        let at = pc;
        let get = |r: usize| reg[r].unwrap_or_else(|| panic!("pc {at}: r{r} read before set"));
        pc += 1;
        match i.code {
            LDX_MEM_W => {
                assert!(is_ctx[s], "pc {}: load from r{s}, not the context", at);
                let field = match i.off {
                    0 => 0,
                    4 => 1,
                    8 => 2,
                    off => panic!("pc {}: unaligned or out of range ctx load {off}", at),
                };
                reg[d] = Some(u64::from(ctx[field]));
            }
            ALU32_AND_K => reg[d] = Some(u64::from(get(d) as u32 & i.imm as u32)),
            ALU32_RSH_K => reg[d] = Some(u64::from((get(d) as u32) >> i.imm)),
            ALU32_MOV_X => reg[d] = Some(u64::from(get(s) as u32)),
            ALU64_MOV_K => reg[d] = Some(i64::from(i.imm) as u64),
            JMP_JNE_K if get(d) != i64::from(i.imm) as u64 => pc += i.off as usize,
            JMP_JNE_X if get(d) != get(s) => pc += i.off as usize,
            JMP_JNE_K | JMP_JNE_X => {}
            JMP_EXIT => return get(0),
            code => panic!("pc {}: opcode {code:#04x} not interpreted", at),
        }
        if !matches!(i.code, JMP_JNE_K | JMP_JNE_X) {
            // Every other instruction wrote r<d> with a scalar.
            is_ctx[d] = false;
        }
    }
}

/// The verifier's structural checks: jumps forward within the program,
/// every instruction reachable, no path falling off the end.
pub fn check(prog: &[BpfInsn]) {
    assert!(!prog.is_empty());
    let mut reached = vec![false; prog.len()];
    reached[0] = true;
    for pc in 0..prog.len() {
        if !reached[pc] {
            panic!("unreachable instruction {pc}: {:?}", prog[pc]);
        }
        let i = prog[pc];
        let mut next = vec![];
        match i.code {
            JMP_EXIT => {}
            JMP_JNE_K | JMP_JNE_X => {
                assert!(i.off >= 0, "backward jump at {pc}");
                next.push(pc + 1);
                next.push(pc + 1 + i.off as usize);
            }
            _ => next.push(pc + 1),
        }
        for n in next {
            assert!(n < prog.len(), "instruction {pc} leads past the end");
            reached[n] = true;
        }
    }
}
