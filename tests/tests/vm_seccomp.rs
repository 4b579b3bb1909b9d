//! Seccomp profiles really filter: a profile read from JSON is compiled by
//! corral-oci and installed in a forked child (as root, like the runtime),
//! and the child's syscalls get the profile's errno, are allowed by argument,
//! or kill it with SIGSYS; the default profile blocks keyctl and unshare but
//! lets a shell work. Runs inside the VM only.

use corral_oci::seccomp::{self, SeccompProgram};
use corral_tests::vm;
use oci_spec::runtime::LinuxSeccomp;
use std::ffi::CString;

/// How a forked child ended.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Exited(i32),
    Signaled(i32),
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Forks; the child sets no_new_privs if asked, installs `prog`, runs
/// `check` and `_exit`s with its result (200 + errno if installing failed).
fn filtered(prog: &SeccompProgram, nnp: bool, check: impl FnOnce() -> i32) -> Ended {
    // SAFETY: the child only makes raw syscalls on data prepared before the
    // fork (the compiled program, C strings) and then _exits or execs.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers.
        if nnp && unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            // SAFETY: _exit never returns and runs no destructors.
            unsafe { libc::_exit(199) };
        }
        let code = match prog.install() {
            Ok(()) => check(),
            Err(e) => 200 + e,
        };
        // SAFETY: as above.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: pid is our child; status is a valid out-pointer.
    while unsafe { libc::waitpid(pid, &mut status, 0) } != pid {
        assert_eq!(errno(), libc::EINTR, "waitpid");
    }
    if libc::WIFEXITED(status) {
        Ended::Exited(libc::WEXITSTATUS(status))
    } else {
        Ended::Signaled(libc::WTERMSIG(status))
    }
}

fn compile_json(json: &str) -> SeccompProgram {
    let profile: LinuxSeccomp = serde_json::from_str(json).expect("profile JSON");
    seccomp::compile(&profile).expect("compiling the profile")
}

/// A raw syscall's result, or -errno.
fn sys(nr: libc::c_long, a: libc::c_long, b: libc::c_long) -> i64 {
    // SAFETY: callers pass integers or pointers to memory they own.
    let r = unsafe { libc::syscall(nr, a, b, 0 as libc::c_long) };
    if r < 0 { -i64::from(errno()) } else { r }
}

#[test]
fn a_blocked_syscall_fails_with_the_profiles_errno() {
    vm::require();
    let prog = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":18},
            {"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":19}]}"#,
    );
    let dir = CString::new(format!("/tmp/corral-vm-seccomp-{}", std::process::id())).unwrap();
    let ended = filtered(&prog, true, || {
        // SAFETY: dir is a valid C string.
        let made = unsafe { libc::mkdir(dir.as_ptr(), 0o755) };
        let mkdir_errno = errno();
        let mut buf = [0u8; 128];
        let cwd = sys(libc::SYS_getcwd, buf.as_mut_ptr() as libc::c_long, 128);
        match (made, mkdir_errno, cwd) {
            (-1, libc::EXDEV, -19) => 0,
            _ => 1,
        }
    });
    assert_eq!(ended, Ended::Exited(0));
}

#[test]
fn an_argument_condition_allows_only_the_listed_value() {
    vm::require();
    // personality(0xffffffff) only queries; everything else is refused.
    let prog = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":1,
             "args":[{"index":0,"value":4294967295,"op":"SCMP_CMP_NE"}]}]}"#,
    );
    let ended = filtered(&prog, true, || {
        let query = sys(libc::SYS_personality, 0xffff_ffff, 0);
        let set = sys(libc::SYS_personality, 0x0040_0000, 0);
        if query >= 0 && set == -i64::from(libc::EPERM) {
            0
        } else {
            1
        }
    });
    assert_eq!(ended, Ended::Exited(0));
}

#[test]
fn kill_process_ends_the_child_with_sigsys() {
    vm::require();
    let prog = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64",
            "SCMP_ARCH_X86","SCMP_ARCH_X32"],"flags":["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#,
    );
    let ended = filtered(&prog, true, || {
        let mut buf = [0u8; 128];
        sys(libc::SYS_getcwd, buf.as_mut_ptr() as libc::c_long, 128);
        0
    });
    assert_eq!(ended, Ended::Signaled(libc::SIGSYS));
}

#[test]
fn root_installs_without_no_new_privs() {
    vm::require();
    let prog = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getcwd"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    let ended = filtered(&prog, false, || {
        let mut buf = [0u8; 128];
        (-sys(libc::SYS_getcwd, buf.as_mut_ptr() as libc::c_long, 128)) as i32
    });
    assert_eq!(ended, Ended::Exited(libc::EXDEV));
}

#[test]
fn the_default_profile_blocks_keyctl_and_unshare() {
    vm::require();
    let allow_all = compile_json(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#);
    let unshare = || sys(libc::SYS_unshare, libc::CLONE_NEWNS as libc::c_long, 0);
    // As root without the default profile, unshare works: the EPERM below is
    // the filter's.
    assert_eq!(
        filtered(&allow_all, true, || unshare() as i32),
        Ended::Exited(0)
    );
    let prog = seccomp::compile(&seccomp::default_profile()).unwrap();
    let ended = filtered(&prog, true, || {
        let keyctl = sys(libc::SYS_keyctl, 0, -1);
        let user = sys(libc::SYS_unshare, libc::CLONE_NEWUSER as libc::c_long, 0);
        let eperm = -i64::from(libc::EPERM);
        match (keyctl, unshare(), user) {
            (k, n, u) if k == eperm && n == eperm && u == eperm => 0,
            _ => 1,
        }
    });
    assert_eq!(ended, Ended::Exited(0));
}

#[test]
fn the_default_profile_lets_a_shell_work() {
    vm::require();
    let prog = seccomp::compile(&seccomp::default_profile()).unwrap();
    let dir = format!("/tmp/corral-vm-seccomp-sh-{}", std::process::id());
    let script = format!(
        "set -e; mkdir -p {dir}; echo ok > {dir}/f; test \"$(cat {dir}/f)\" = ok; \
         ls / > /dev/null; (sleep 0; true) & wait; rm -r {dir}; \
         if unshare -U true 2>/dev/null; then exit 3; fi"
    );
    let argv: Vec<CString> = ["/bin/sh", "-c", &script]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let ended = filtered(&prog, true, || {
        // SAFETY: ptrs is a NULL-terminated array of valid C strings.
        unsafe { libc::execv(ptrs[0], ptrs.as_ptr()) };
        100 + errno()
    });
    assert_eq!(ended, Ended::Exited(0));
}
