//! Tests of compiling with the real libseccomp.so.2 and of installing the
//! result in forked children (seccomp is a kernel feature the host has; the
//! children set no_new_privs, so no privilege is needed).

use super::*;
use crate::seccomp::testutil::{Ended, in_child, no_new_privs, raw, spawn, wait};
use crate::seccomp::{default_profile, parse_profile, recv_fd, send_fd};

const AUDIT_ARCH_I386: u32 = 0x4000_0003;

fn compiled(json: &str) -> SeccompProgram {
    compile(&parse_profile(json).unwrap()).unwrap()
}

/// Installs `prog` in a child, runs `check` there and returns how it ended.
fn run_filtered(prog: &SeccompProgram, check: impl FnOnce() -> i32) -> Ended {
    in_child(|| {
        no_new_privs();
        if let Err(e) = prog.install() {
            return 200 + e;
        }
        check()
    })
}

/// The errno of a failed getcwd, 0 when it succeeds.
fn getcwd_errno() -> i32 {
    let mut buf = [0u8; 256];
    let r = raw(libc::SYS_getcwd, [buf.as_mut_ptr() as libc::c_long, 256, 0]);
    if r < 0 { -r as i32 } else { 0 }
}

#[test]
fn a_small_profile_compiles_to_a_program_ending_in_a_return() {
    let p = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    assert!(!p.is_empty());
    let last = p.instructions().last().unwrap();
    assert_eq!(last.code & 0x07, 0x06, "BPF_RET class: {last:?}");
    assert_eq!(p.flags(), 0);
    assert!(p.skipped_syscalls().is_empty());
}

#[test]
fn added_architectures_are_checked_by_the_program() {
    let has_i386 = |p: &SeccompProgram| p.instructions().iter().any(|i| i.k == AUDIT_ARCH_I386);
    let native = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
        {"names":["getcwd"],"action":"SCMP_ACT_KILL"}]}"#,
    );
    let with_x86 = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_KILL"}]}"#,
    );
    if cfg!(target_arch = "x86_64") {
        assert!(!has_i386(&native));
    }
    assert!(has_i386(&with_x86));
}

#[test]
fn unknown_syscalls_are_skipped() {
    let p = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["no_such_syscall_2099","getcwd"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(p.skipped_syscalls(), ["no_such_syscall_2099"]);
    assert_eq!(run_filtered(&p, getcwd_errno), Ended::Exited(libc::EPERM));
}

#[test]
fn invalid_values_are_errors_naming_the_field() {
    let e = compile(
        &parse_profile(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {"names":["read"],"action":"SCMP_ACT_ERRNO",
                 "args":[{"index":9,"value":0,"op":"SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap(),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("linux.seccomp.syscalls[0].args[0].index: "),
        "{e}"
    );
}

#[test]
fn the_default_profile_compiles() {
    let p = compile(&default_profile()).unwrap();
    assert!(
        p.len() > 100 && p.len() < MAX_INSTRUCTIONS,
        "{} instructions",
        p.len()
    );
    for known in ["read", "clone", "personality", "socket", "execve"] {
        assert!(
            !p.skipped_syscalls().iter().any(|s| s == known),
            "{known} skipped"
        );
    }
}

#[test]
fn errno_ret_is_what_the_blocked_syscall_returns() {
    let p = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    assert_eq!(run_filtered(&p, getcwd_errno), Ended::Exited(libc::EXDEV));
}

#[test]
fn kill_process_and_trap_end_with_sigsys() {
    for action in ["SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_KILL"] {
        let p = compiled(&format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                {{"names":["getcwd"],"action":"{action}"}}]}}"#
        ));
        assert_eq!(
            run_filtered(&p, getcwd_errno),
            Ended::Signaled(libc::SIGSYS),
            "{action}"
        );
    }
}

#[test]
fn argument_conditions_select_the_calls() {
    let p = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_NE"}]},
            {"names":["getpgid"],"action":"SCMP_ACT_ERRNO","errnoRet":19,
             "args":[{"index":0,"value":255,"valueTwo":123,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    let ended = run_filtered(&p, || {
        let query = raw(libc::SYS_personality, [0xffff_ffff, 0, 0]);
        let set = raw(libc::SYS_personality, [0x0400_0000, 0, 0]);
        let masked = raw(libc::SYS_getpgid, [0x1_007b, 0, 0]);
        let other = raw(libc::SYS_getpgid, [0, 0, 0]);
        match (query >= 0, set, masked, other >= 0) {
            (true, -18, -19, true) => 0,
            _ => 1,
        }
    });
    assert_eq!(ended, Ended::Exited(0));
}

#[test]
fn the_default_profile_blocks_keyctl_and_unshare_and_allows_work() {
    let p = compile(&default_profile()).unwrap();
    let ended = run_filtered(&p, || {
        if raw(libc::SYS_keyctl, [0, -1, 0]) != -i64::from(libc::EPERM) {
            return 1;
        }
        if raw(
            libc::SYS_unshare,
            [libc::CLONE_NEWUSER as libc::c_long, 0, 0],
        ) != -i64::from(libc::EPERM)
        {
            return 2;
        }
        if raw(libc::SYS_clone3, [0, 0, 0]) != -i64::from(libc::ENOSYS) {
            return 3;
        }
        if getcwd_errno() != 0 || raw(libc::SYS_getpid, [0; 3]) <= 0 {
            return 4;
        }
        match wait(spawn(|| 7)) {
            Ended::Exited(7) => 0,
            _ => 5,
        }
    });
    assert_eq!(ended, Ended::Exited(0));
}

#[test]
fn install_refuses_the_wrong_variant() {
    let plain = compiled(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    assert_eq!(plain.install_with_listener(), Err(libc::EINVAL));
    let notify = compiled(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/x.sock",
            "syscalls":[{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert_eq!(notify.install(), Err(libc::EINVAL));
}

#[path = "notify_flow_test.rs"]
mod notify_flow;
