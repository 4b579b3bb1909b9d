//! Unit tests of the pure planning step: actions, errnos, argument rules,
//! architectures, flags and the notify listener, with their error paths.

use super::*;
use crate::seccomp::parse_profile;

fn plan_of(json: &str) -> Result<Plan, SeccompError> {
    plan(&parse_profile(json).unwrap())
}

fn err_of(json: &str) -> String {
    plan_of(json).unwrap_err().to_string()
}

#[test]
fn errno_defaults_to_eperm_and_takes_errno_ret() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":18},
            {"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    assert_eq!(
        p.default_action,
        libc::SECCOMP_RET_ERRNO | libc::EPERM as u32
    );
    assert_eq!(p.rules[0].action, libc::SECCOMP_RET_ERRNO | 18);
    assert_eq!(p.rules[0].path, "linux.seccomp.syscalls[0].names[0]");
    assert_eq!(p.rules[1].action, libc::SECCOMP_RET_ALLOW);
}

#[test]
fn every_action_maps_to_its_kernel_value() {
    use LinuxSeccompAction as A;
    let cases = [
        (A::ScmpActKill, libc::SECCOMP_RET_KILL_THREAD),
        (A::ScmpActKillThread, libc::SECCOMP_RET_KILL_THREAD),
        (A::ScmpActKillProcess, libc::SECCOMP_RET_KILL_PROCESS),
        (A::ScmpActTrap, libc::SECCOMP_RET_TRAP),
        (A::ScmpActErrno, libc::SECCOMP_RET_ERRNO | 1),
        (A::ScmpActTrace, libc::SECCOMP_RET_TRACE | 1),
        (A::ScmpActLog, libc::SECCOMP_RET_LOG),
        (A::ScmpActAllow, libc::SECCOMP_RET_ALLOW),
        (A::ScmpActNotify, libc::SECCOMP_RET_USER_NOTIF),
    ];
    for (a, want) in cases {
        assert_eq!(action(a, None, "p", "e").unwrap(), want, "{a}");
    }
}

#[test]
fn errno_ret_is_checked() {
    let e = err_of(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}"#,
    );
    assert!(e.starts_with("linux.seccomp.syscalls[1].errnoRet: "), "{e}");
    let e = err_of(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":5000}"#);
    assert!(e.starts_with("linux.seccomp.defaultErrnoRet: 5000"), "{e}");
}

#[test]
fn an_argument_index_over_five_is_an_error() {
    let e = err_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ERRNO"},
            {"names":["write"],"action":"SCMP_ACT_ERRNO",
             "args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},
                     {"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    assert!(
        e.starts_with("linux.seccomp.syscalls[1].args[1].index: 6"),
        "{e}"
    );
}

#[test]
fn distinct_arguments_are_and_ed_repeated_ones_or_ed() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["mmap"],"action":"SCMP_ACT_ALLOW",
             "args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},
                     {"index":2,"value":7,"valueTwo":4,"op":"SCMP_CMP_MASKED_EQ"}]},
            {"names":["personality"],"action":"SCMP_ACT_ALLOW",
             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},
                     {"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#,
    )
    .unwrap();
    let masked = ArgCmp {
        arg: 2,
        op: 7,
        datum_a: 7,
        datum_b: 4,
    };
    assert_eq!(p.rules[0].conditions.len(), 1);
    assert_eq!(p.rules[0].conditions[0][1], masked);
    assert_eq!(p.rules[1].conditions.len(), 2);
    assert_eq!(p.rules[1].conditions[1][0].datum_a, 8);
}

#[test]
fn entries_with_the_default_action_add_nothing() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
            {"names":["getcwd"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
    )
    .unwrap();
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].name, "getcwd");
}

#[test]
fn empty_names_are_an_error() {
    let e = err_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_LOG"}]}"#,
    );
    assert!(e.starts_with("linux.seccomp.syscalls[0].names: "), "{e}");
}

#[test]
fn architectures_map_to_libseccomp_names_and_native_adds_nothing() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":
            ["SCMP_ARCH_NATIVE","SCMP_ARCH_X86","SCMP_ARCH_AARCH64"]}"#,
    )
    .unwrap();
    assert_eq!(
        p.arches,
        vec![
            ("linux.seccomp.architectures[1]".to_string(), "x86"),
            ("linux.seccomp.architectures[2]".to_string(), "aarch64"),
        ]
    );
}

#[test]
fn flags_are_kept_for_the_kernel() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
    )
    .unwrap();
    assert_eq!(
        p.flags,
        libc::SECCOMP_FILTER_FLAG_TSYNC
            | libc::SECCOMP_FILTER_FLAG_LOG
            | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
    );
    assert_eq!(p.listener, None);
}

#[test]
fn notify_needs_a_listener_path() {
    let e = err_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    assert!(e.starts_with("linux.seccomp.listenerPath: "), "{e}");
    assert!(e.contains("linux.seccomp.syscalls[0].names[0]"), "{e}");
    let e = err_of(r#"{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/a.sock"}"#);
    assert!(e.starts_with("linux.seccomp.defaultAction: "), "{e}");
}

#[test]
fn notify_adds_the_listener_flags() {
    let p = plan_of(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock",
            "listenerMetadata":"m","flags":["SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    )
    .unwrap();
    assert_eq!(
        p.flags,
        libc::SECCOMP_FILTER_FLAG_TSYNC
            | libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH
            | libc::SECCOMP_FILTER_FLAG_NEW_LISTENER
            | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
    );
    let l = p.listener.unwrap();
    assert_eq!(l.path(), std::path::Path::new("/run/agent.sock"));
    assert_eq!(l.metadata(), Some("m"));
}
