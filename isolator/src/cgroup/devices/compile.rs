//! The pure compiler from OCI device rules to a `BPF_PROG_TYPE_CGROUP_DEVICE`
//! program, with the semantics of crun's `ebpf.c` and runc's
//! `devicefilter.go`: the last matching rule wins, nothing matching denies.
//!
//! The program reads `struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
//! u32 minor; }` (`access_type` = access bits << 16 | device type) into
//! r2 = type, r3 = access, r4 = major, r5 = minor, then tests the rules from
//! the last to the first, one block each:
//!
//! ```text
//! if r2 != TYPE goto next              ; unless type 'a'
//! r1 = r3; r1 &= ACCESS                ; unless access is "rwm":
//! if r1 != r3 goto next                ;   requested ⊆ the rule's
//! if r4 != MAJOR goto next             ; unless major is a wildcard
//! if r5 != MINOR goto next             ; unless minor is a wildcard
//! r0 = ALLOW; exit
//! next:
//! ```
//!
//! and ends with `r0 = 0; exit`. A rule without any test (`a *:* rwm`)
//! decides everything: the rules before it and the final deny are not
//! emitted, as the verifier refuses unreachable instructions.

use super::error::DevicesError;
use super::insn::{BpfInsn, JMP_JNE_K, JMP_JNE_X, R0, R1, R2, R3, R4, R5};
use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// `BPF_DEVCG_DEV_BLOCK`: the type of a block device request.
pub const DEV_BLOCK: u32 = 1;
/// `BPF_DEVCG_DEV_CHAR`: the type of a character device request.
pub const DEV_CHAR: u32 = 2;
/// `BPF_DEVCG_ACC_MKNOD`: creating a node.
pub const ACC_MKNOD: u32 = 1;
/// `BPF_DEVCG_ACC_READ`: opening for reading.
pub const ACC_READ: u32 = 2;
/// `BPF_DEVCG_ACC_WRITE`: opening for writing.
pub const ACC_WRITE: u32 = 4;
const ACC_ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;

/// One OCI rule, checked and in the program's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// `None`: any type (`a`).
    typ: Option<u32>,
    major: Option<i32>,
    minor: Option<i32>,
    access: u32,
}

/// Compiles `rules` into a device filter program (see the module doc).
/// Fails, naming the rule and field, on a type other than `a`, `b`, `c`, a
/// negative major or minor other than -1 (a wildcard, as in runc), one
/// above 2^31-1, or an access that is empty or not made of `r`, `w`, `m`.
pub fn program(rules: &[LinuxDeviceCgroup]) -> Result<Vec<BpfInsn>, DevicesError> {
    let rules = rules
        .iter()
        .enumerate()
        .map(|(i, r)| Rule::parse(i, r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut insns = prologue();
    for rule in rules.iter().rev() {
        if append(&mut insns, rule) {
            return Ok(insns);
        }
    }
    insns.extend(verdict(false));
    Ok(insns)
}

/// Loads the context into r2 (type), r3 (access), r4 (major), r5 (minor).
fn prologue() -> Vec<BpfInsn> {
    vec![
        BpfInsn::load_word(R2, R1, 0),
        BpfInsn::and32(R2, 0xffff),
        BpfInsn::load_word(R3, R1, 0),
        BpfInsn::rsh32(R3, 16),
        BpfInsn::load_word(R4, R1, 4),
        BpfInsn::load_word(R5, R1, 8),
    ]
}

/// `r0 = allow; exit`.
fn verdict(allow: bool) -> [BpfInsn; 2] {
    [BpfInsn::mov64_imm(R0, i32::from(allow)), BpfInsn::exit()]
}

/// Appends `rule`'s block; true when the block has no test (matches all).
fn append(insns: &mut Vec<BpfInsn>, rule: &Rule) -> bool {
    // Jump offsets are filled in once the block's length is known.
    let mut tests = Vec::with_capacity(6);
    if let Some(t) = rule.typ {
        tests.push(BpfInsn::jne_imm(R2, t as i32, 0));
    }
    if rule.access != ACC_ALL {
        tests.push(BpfInsn::mov32_reg(R1, R3));
        tests.push(BpfInsn::and32(R1, rule.access as i32));
        tests.push(BpfInsn::jne_reg(R1, R3, 0));
    }
    if let Some(major) = rule.major {
        tests.push(BpfInsn::jne_imm(R4, major, 0));
    }
    if let Some(minor) = rule.minor {
        tests.push(BpfInsn::jne_imm(R5, minor, 0));
    }
    let len = tests.len();
    for (i, insn) in tests.iter_mut().enumerate() {
        if matches!(insn.code, JMP_JNE_K | JMP_JNE_X) {
            // Past the rest of the tests and the two verdict instructions.
            insn.off = (len - i - 1 + 2) as i16;
        }
    }
    insns.extend(tests);
    insns.extend(verdict(rule.allow));
    len == 0
}

impl Rule {
    fn parse(index: usize, r: &LinuxDeviceCgroup) -> Result<Rule, DevicesError> {
        let bad = |field, value: String, reason| DevicesError::InvalidRule {
            index,
            field,
            value,
            reason,
        };
        let typ = match r.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => None,
            LinuxDeviceType::B => Some(DEV_BLOCK),
            LinuxDeviceType::C => Some(DEV_CHAR),
            other => {
                return Err(bad(
                    "type",
                    format!("{:?}", other.as_str()),
                    "device cgroup rules take \"a\" (all), \"b\" (block) or \"c\" (char)",
                ));
            }
        };
        let number = |field, n: Option<i64>| match n {
            None | Some(-1) => Ok(None),
            Some(n) if (0..=i64::from(i32::MAX)).contains(&n) => Ok(Some(n as i32)),
            Some(n) => Err(bad(
                field,
                n.to_string(),
                "give a device number from 0 to 2147483647 (Linux majors are below 4096, \
                 minors below 2^20), or leave it out (or -1) for any",
            )),
        };
        let access = r.access().as_deref().unwrap_or("");
        let mut bits = 0;
        for c in access.chars() {
            bits |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                'm' => ACC_MKNOD,
                _ => 0,
            };
        }
        if access.is_empty() || access.chars().any(|c| !"rwm".contains(c)) {
            return Err(bad(
                "access",
                format!("{access:?}"),
                "give one or more of r (read), w (write), m (mknod), e.g. \"rwm\"",
            ));
        }
        Ok(Rule {
            allow: r.allow(),
            typ,
            major: number("major", r.major())?,
            minor: number("minor", r.minor())?,
            access: bits,
        })
    }
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
