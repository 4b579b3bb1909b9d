//! The compiler checked by running its programs in the test interpreter
//! against a plain reading of the rules (last match wins, default deny).

use super::super::defaults::{container_rules, default_allowed};
use super::super::interp;
use super::*;

fn rule(
    allow: bool,
    typ: &str,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> LinuxDeviceCgroup {
    let mut r = LinuxDeviceCgroup::default();
    r.set_allow(allow);
    r.set_typ(match typ {
        "a" => Some(LinuxDeviceType::A),
        "b" => Some(LinuxDeviceType::B),
        "c" => Some(LinuxDeviceType::C),
        "u" => Some(LinuxDeviceType::U),
        "p" => Some(LinuxDeviceType::P),
        _ => None,
    });
    r.set_major(major);
    r.set_minor(minor);
    r.set_access(Some(access.to_string()));
    r
}

fn deny_all() -> LinuxDeviceCgroup {
    rule(false, "a", None, None, "rwm")
}

/// The rules read literally: the last one matching decides, else deny.
fn reference(rules: &[LinuxDeviceCgroup], typ: u32, major: u32, minor: u32, access: u32) -> bool {
    let matches = |r: &LinuxDeviceCgroup| {
        let type_ok = match r.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => true,
            LinuxDeviceType::B => typ == DEV_BLOCK,
            _ => typ == DEV_CHAR,
        };
        let num_ok =
            |want: Option<i64>, got: u32| want.is_none_or(|w| w == -1 || w == i64::from(got));
        let granted: u32 = r
            .access()
            .as_deref()
            .unwrap_or("")
            .chars()
            .map(|c| match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                _ => ACC_MKNOD,
            })
            .fold(0, |a, b| a | b);
        type_ok
            && num_ok(r.major(), major)
            && num_ok(r.minor(), minor)
            && access & granted == access
    };
    rules
        .iter()
        .rev()
        .find(|r| matches(r))
        .is_some_and(|r| r.allow())
}

/// Runs the compiled program on many requests and compares with [`reference`].
fn assert_agrees(rules: &[LinuxDeviceCgroup]) {
    let prog = program(rules).unwrap();
    interp::check(&prog);
    let majors = [0, 1, 4, 5, 8, 10, 136, 180, 4095];
    let minors = [0, 1, 2, 3, 5, 7, 8, 9, 200, 1_048_575];
    for typ in [DEV_BLOCK, DEV_CHAR] {
        for major in majors {
            for minor in minors {
                for access in 1..=ACC_ALL {
                    let got = interp::run(&prog, [(access << 16) | typ, major, minor]);
                    let want = reference(rules, typ, major, minor, access);
                    assert_eq!(
                        got,
                        u64::from(want),
                        "type {typ} {major}:{minor} access {access} with rules {rules:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn devices_no_rules_deny_everything() {
    let prog = program(&[]).unwrap();
    assert_eq!(prog.len(), 8);
    assert_eq!(interp::run(&prog, [(ACC_READ << 16) | DEV_CHAR, 1, 3]), 0);
    assert_agrees(&[]);
}

#[test]
fn devices_block_pattern_matches_runc_and_crun() {
    let prog = program(&[rule(true, "c", Some(1), Some(3), "rw")]).unwrap();
    let want = [
        BpfInsn::load_word(R2, R1, 0),
        BpfInsn::and32(R2, 0xffff),
        BpfInsn::load_word(R3, R1, 0),
        BpfInsn::rsh32(R3, 16),
        BpfInsn::load_word(R4, R1, 4),
        BpfInsn::load_word(R5, R1, 8),
        BpfInsn::jne_imm(R2, DEV_CHAR as i32, 7),
        BpfInsn::mov32_reg(R1, R3),
        BpfInsn::and32(R1, (ACC_READ | ACC_WRITE) as i32),
        BpfInsn::jne_reg(R1, R3, 4),
        BpfInsn::jne_imm(R4, 1, 3),
        BpfInsn::jne_imm(R5, 3, 2),
        BpfInsn::mov64_imm(R0, 1),
        BpfInsn::exit(),
        BpfInsn::mov64_imm(R0, 0),
        BpfInsn::exit(),
    ];
    assert_eq!(prog, want);
}

#[test]
fn devices_the_vm_tests_rules() {
    let rules = [
        deny_all(),
        rule(true, "c", Some(1), Some(3), "rwm"),
        rule(true, "c", Some(1), Some(5), "r"),
    ];
    let prog = program(&rules).unwrap();
    let run = |access, typ, major, minor| interp::run(&prog, [(access << 16) | typ, major, minor]);
    assert_eq!(run(ACC_WRITE, DEV_CHAR, 1, 3), 1, "write /dev/null");
    assert_eq!(run(ACC_READ, DEV_CHAR, 1, 5), 1, "read /dev/zero");
    assert_eq!(run(ACC_WRITE, DEV_CHAR, 1, 5), 0, "write /dev/zero");
    assert_eq!(
        run(ACC_READ | ACC_WRITE, DEV_CHAR, 1, 5),
        0,
        "O_RDWR /dev/zero"
    );
    assert_eq!(run(ACC_READ, DEV_CHAR, 1, 7), 0, "read /dev/full");
    assert_eq!(run(ACC_MKNOD, DEV_BLOCK, 8, 0), 0, "mknod sda");
    assert_eq!(
        run(ACC_READ, DEV_BLOCK, 1, 3),
        0,
        "a block 1:3 is not /dev/null"
    );
    assert_agrees(&rules);
}

#[test]
fn devices_last_matching_rule_wins() {
    assert_agrees(&[
        rule(true, "c", Some(1), None, "rwm"),
        rule(false, "c", Some(1), Some(7), "w"),
    ]);
    assert_agrees(&[
        rule(false, "c", Some(1), Some(7), "w"),
        rule(true, "c", Some(1), None, "rwm"),
    ]);
    assert_agrees(&[
        rule(true, "a", None, None, "r"),
        rule(false, "b", None, Some(0), "rw"),
    ]);
}

#[test]
fn devices_defaults_with_a_spec_deny_all() {
    let rules = container_rules(&[deny_all()]);
    let prog = program(&rules).unwrap();
    let run = |access, typ, major, minor| interp::run(&prog, [(access << 16) | typ, major, minor]);
    assert_eq!(run(ACC_READ | ACC_WRITE, DEV_CHAR, 1, 3), 1, "/dev/null");
    assert_eq!(
        run(ACC_READ | ACC_WRITE, DEV_CHAR, 136, 42),
        1,
        "/dev/pts/42"
    );
    assert_eq!(run(ACC_MKNOD, DEV_BLOCK, 8, 0), 1, "mknod is allowed");
    assert_eq!(run(ACC_READ, DEV_BLOCK, 8, 0), 0, "opening sda is not");
    assert_eq!(run(ACC_READ, DEV_CHAR, 1, 1), 0, "/dev/mem");
    assert_agrees(&rules);
    assert_agrees(&default_allowed());
}

#[test]
fn devices_a_catch_all_rule_ends_the_program() {
    let all = rule(true, "a", None, None, "rwm");
    let prog = program(&[rule(false, "c", Some(1), Some(3), "rwm"), all.clone()]).unwrap();
    // Prologue and the one block: the earlier rule is unreachable.
    assert_eq!(prog.len(), 8);
    assert_eq!(prog[6], BpfInsn::mov64_imm(R0, 1));
    assert_agrees(&[rule(false, "c", Some(1), Some(3), "rwm"), all.clone()]);
    assert_agrees(&[all.clone(), rule(false, "c", Some(1), Some(3), "rwm")]);
    assert_agrees(&[deny_all()]);
    assert_agrees(&[all]);
}

#[test]
fn devices_minus_one_is_a_wildcard() {
    let r = rule(true, "c", Some(-1), Some(-1), "r");
    assert_eq!(
        program(std::slice::from_ref(&r)).unwrap(),
        program(&[rule(true, "c", None, None, "r")]).unwrap()
    );
    assert_agrees(&[r]);
}

#[test]
fn devices_random_rule_sets_agree_with_the_reference() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let majors = [None, Some(1), Some(5), Some(8), Some(136)];
    let minors = [None, Some(0), Some(3), Some(5), Some(7)];
    let accesses = ["r", "w", "m", "rw", "rm", "wm", "rwm", "mwr", "rr"];
    for _ in 0..150 {
        let rules: Vec<_> = (0..1 + next(7))
            .map(|_| {
                rule(
                    next(2) == 0,
                    ["a", "b", "c", "c"][next(4) as usize],
                    majors[next(5) as usize],
                    minors[next(5) as usize],
                    accesses[next(9) as usize],
                )
            })
            .collect();
        assert_agrees(&rules);
    }
}

#[test]
fn devices_invalid_rules_name_the_rule_and_field() {
    let cases = [
        (rule(true, "u", None, None, "rwm"), "type"),
        (rule(true, "p", None, None, "rwm"), "type"),
        (rule(true, "c", Some(-2), None, "rwm"), "major"),
        (rule(true, "c", Some(1), Some(1 << 31), "rwm"), "minor"),
        (rule(true, "c", None, None, ""), "access"),
        (rule(true, "c", None, None, "rwx"), "access"),
    ];
    for (bad, field) in cases {
        let err = program(&[deny_all(), bad]).unwrap_err();
        let DevicesError::InvalidRule {
            index, field: f, ..
        } = &err;
        assert_eq!((*index, *f), (1, field), "{err}");
        let msg = crate::cgroup::CgroupError::from(err).to_string();
        assert!(msg.contains(&format!("devices[1].{field}")), "{msg}");
    }
    let mut no_access = deny_all();
    no_access.set_access(None);
    assert!(program(&[no_access]).is_err());
}
