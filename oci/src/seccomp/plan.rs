//! The pure half of compiling a profile: it checks an OCI seccomp profile and
//! turns it into a [`Plan`] — kernel return values for the actions, libseccomp
//! names for the architectures, the rules with their argument comparisons, the
//! kernel filter flags — every item carrying the JSON path it came from. No
//! libseccomp and no syscalls here, so all of it is unit-tested directly.

use libc::c_ulong;
use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};

use super::error::SeccompError;
use super::libseccomp::ArgCmp;
use super::notify::NotifyListener;

/// The JSON path of the profile inside config.json.
pub const ROOT: &str = "linux.seccomp";

/// The largest errno the kernel passes through SECCOMP_RET_ERRNO (MAX_ERRNO).
const MAX_ERRNO: u32 = 4095;

/// Syscall arguments a rule can compare: 0 to 5.
const MAX_ARGS: usize = 6;

/// A profile checked and lowered, ready for libseccomp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The kernel return value (`SECCOMP_RET_*` with its data) by default.
    pub default_action: u32,
    /// Architectures to add beside the native one: (path, libseccomp name).
    pub arches: Vec<(String, &'static str)>,
    /// One entry per syscall name of the profile, in profile order.
    pub rules: Vec<Rule>,
    /// Flags for seccomp(SECCOMP_SET_MODE_FILTER, flags, …).
    pub flags: c_ulong,
    /// Where a SCMP_ACT_NOTIFY listener goes, if any rule notifies.
    pub listener: Option<NotifyListener>,
}

/// The rules for one syscall name of one `syscalls[]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `linux.seccomp.syscalls[i].names[j]`.
    pub path: String,
    /// The syscall's name, resolved later by libseccomp.
    pub name: String,
    /// The kernel return value.
    pub action: u32,
    /// libseccomp rules to add; the comparisons of one rule are and-ed.
    pub conditions: Vec<Vec<ArgCmp>>,
}

/// Checks `profile` and lowers it to a [`Plan`].
pub fn plan(profile: &LinuxSeccomp) -> Result<Plan, SeccompError> {
    let default_action = action(
        profile.default_action(),
        profile.default_errno_ret(),
        &format!("{ROOT}.defaultAction"),
        &format!("{ROOT}.defaultErrnoRet"),
    )?;
    if default_action == libc::SECCOMP_RET_USER_NOTIF {
        return Err(SeccompError::invalid(
            format!("{ROOT}.defaultAction"),
            "SCMP_ACT_NOTIFY cannot be the default action (every syscall, the runtime's own \
             included, would wait for the agent); put it on the syscalls the agent handles",
        ));
    }
    let mut rules = Vec::new();
    for (i, syscall) in profile.syscalls().iter().flatten().enumerate() {
        rules.extend(syscall_rules(syscall, i, default_action)?);
    }
    let notifies = rules
        .iter()
        .any(|r| r.action == libc::SECCOMP_RET_USER_NOTIF);
    let listener = if notifies {
        Some(listener(profile, &rules)?)
    } else {
        None
    };
    Ok(Plan {
        default_action,
        arches: arches(profile.architectures().as_deref().unwrap_or_default()),
        rules,
        flags: flags(profile.flags().as_deref().unwrap_or_default(), notifies),
        listener,
    })
}

/// The kernel return value of an OCI action; `errno_ret` only for ERRNO and
/// TRACE (EPERM when absent, as the runtime spec says).
pub fn action(
    action: LinuxSeccompAction,
    errno_ret: Option<u32>,
    path: &str,
    errno_path: &str,
) -> Result<u32, SeccompError> {
    use LinuxSeccompAction as A;
    let data = |max: u32| match errno_ret {
        None => Ok(libc::EPERM as u32),
        Some(e) if e <= max => Ok(e),
        Some(e) => Err(SeccompError::invalid(
            errno_path,
            format!("{e} is out of range for {action} (at most {max})"),
        )),
    };
    if errno_ret.is_some() && !matches!(action, A::ScmpActErrno | A::ScmpActTrace) {
        return Err(SeccompError::invalid(
            errno_path,
            format!(
                "an errno value is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, \
                 not with {action} (at {path}); remove it"
            ),
        ));
    }
    Ok(match action {
        A::ScmpActKill | A::ScmpActKillThread => libc::SECCOMP_RET_KILL_THREAD,
        A::ScmpActKillProcess => libc::SECCOMP_RET_KILL_PROCESS,
        A::ScmpActTrap => libc::SECCOMP_RET_TRAP,
        A::ScmpActErrno => libc::SECCOMP_RET_ERRNO | data(MAX_ERRNO)?,
        A::ScmpActTrace => libc::SECCOMP_RET_TRACE | data(u32::from(u16::MAX))?,
        A::ScmpActLog => libc::SECCOMP_RET_LOG,
        A::ScmpActAllow => libc::SECCOMP_RET_ALLOW,
        A::ScmpActNotify => libc::SECCOMP_RET_USER_NOTIF,
    })
}

/// The rules of `syscalls[i]`; none when its action is the default one (the
/// entry changes nothing, and libseccomp refuses such rules).
fn syscall_rules(
    syscall: &LinuxSyscall,
    i: usize,
    default_action: u32,
) -> Result<Vec<Rule>, SeccompError> {
    let path = format!("{ROOT}.syscalls[{i}]");
    let action = action(
        syscall.action(),
        syscall.errno_ret(),
        &format!("{path}.action"),
        &format!("{path}.errnoRet"),
    )?;
    if syscall.names().is_empty() {
        return Err(SeccompError::invalid(
            format!("{path}.names"),
            "the list is empty; name at least one syscall",
        ));
    }
    let conditions = conditions(syscall.args().as_deref().unwrap_or_default(), &path)?;
    if action == default_action {
        return Ok(Vec::new());
    }
    Ok(syscall
        .names()
        .iter()
        .enumerate()
        .map(|(j, name)| Rule {
            path: format!("{path}.names[{j}]"),
            name: name.clone(),
            action,
            conditions: conditions.clone(),
        })
        .collect())
}

/// The libseccomp rules for one entry's `args`. All comparisons go into one
/// rule (and-ed) unless an argument index repeats: libseccomp cannot compare
/// one argument twice in a rule, so then each comparison becomes a rule of its
/// own (or-ed), the behaviour of runc and crun that Docker's profiles rely on.
fn conditions(args: &[LinuxSeccompArg], path: &str) -> Result<Vec<Vec<ArgCmp>>, SeccompError> {
    let mut cmps = Vec::with_capacity(args.len());
    let mut seen = [0usize; MAX_ARGS];
    for (k, arg) in args.iter().enumerate() {
        if arg.index() >= MAX_ARGS {
            return Err(SeccompError::invalid(
                format!("{path}.args[{k}].index"),
                format!("{} is not a syscall argument (0 to 5)", arg.index()),
            ));
        }
        seen[arg.index()] += 1;
        cmps.push(ArgCmp {
            arg: arg.index() as u32,
            op: operator(arg.op()),
            datum_a: arg.value(),
            datum_b: arg.value_two().unwrap_or(0),
        });
    }
    Ok(if cmps.is_empty() {
        vec![Vec::new()]
    } else if seen.iter().any(|&n| n > 1) {
        cmps.into_iter().map(|c| vec![c]).collect()
    } else {
        vec![cmps]
    })
}

/// libseccomp's `enum scmp_compare` value.
pub fn operator(op: LinuxSeccompOperator) -> u32 {
    use LinuxSeccompOperator as O;
    match op {
        O::ScmpCmpNe => 1,
        O::ScmpCmpLt => 2,
        O::ScmpCmpLe => 3,
        O::ScmpCmpEq => 4,
        O::ScmpCmpGe => 5,
        O::ScmpCmpGt => 6,
        O::ScmpCmpMaskedEq => 7,
    }
}

/// The architectures to add, by libseccomp name; the native one is always in
/// the filter, so `SCMP_ARCH_NATIVE` adds nothing.
fn arches(list: &[Arch]) -> Vec<(String, &'static str)> {
    list.iter()
        .enumerate()
        .filter_map(|(i, a)| Some((format!("{ROOT}.architectures[{i}]"), arch_name(*a)?)))
        .collect()
}

/// libseccomp's name of an OCI architecture (what `seccomp_arch_resolve_name`
/// takes); None for the native one.
pub fn arch_name(arch: Arch) -> Option<&'static str> {
    Some(match arch {
        Arch::ScmpArchNative => return None,
        Arch::ScmpArchX86 => "x86",
        Arch::ScmpArchX86_64 => "x86_64",
        Arch::ScmpArchX32 => "x32",
        Arch::ScmpArchArm => "arm",
        Arch::ScmpArchAarch64 => "aarch64",
        Arch::ScmpArchMips => "mips",
        Arch::ScmpArchMips64 => "mips64",
        Arch::ScmpArchMips64n32 => "mips64n32",
        Arch::ScmpArchMipsel => "mipsel",
        Arch::ScmpArchMipsel64 => "mipsel64",
        Arch::ScmpArchMipsel64n32 => "mipsel64n32",
        Arch::ScmpArchPpc => "ppc",
        Arch::ScmpArchPpc64 => "ppc64",
        Arch::ScmpArchPpc64le => "ppc64le",
        Arch::ScmpArchS390 => "s390",
        Arch::ScmpArchS390x => "s390x",
        Arch::ScmpArchParisc => "parisc",
        Arch::ScmpArchParisc64 => "parisc64",
        Arch::ScmpArchRiscv64 => "riscv64",
        Arch::ScmpArchLoongarch64 => "loongarch64",
        Arch::ScmpArchM68k => "m68k",
        Arch::ScmpArchSh => "sh",
        Arch::ScmpArchSheb => "sheb",
    })
}

/// The kernel filter flags. None of the OCI flags changes the BPF program
/// (libseccomp's matching attributes only act in seccomp_load, which corral
/// does not use), so they are all kept for installation. WAIT_KILLABLE_RECV
/// is only valid with a listener and is dropped without one; a listener adds
/// NEW_LISTENER, and with TSYNC also TSYNC_ESRCH, which the kernel requires
/// for that pair.
fn flags(list: &[LinuxSeccompFilterFlag], notifies: bool) -> c_ulong {
    use LinuxSeccompFilterFlag as F;
    let mut flags = 0;
    for flag in list {
        flags |= match flag {
            F::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            F::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            F::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            F::SeccompFilterFlagWaitKillableRecv if notifies => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
            F::SeccompFilterFlagWaitKillableRecv => 0,
        };
    }
    if notifies {
        flags |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if flags & libc::SECCOMP_FILTER_FLAG_TSYNC != 0 {
            flags |= libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        }
    }
    flags
}

/// The listener of a profile that notifies: `listenerPath` is required then.
fn listener(profile: &LinuxSeccomp, rules: &[Rule]) -> Result<NotifyListener, SeccompError> {
    let path = profile.listener_path().clone().unwrap_or_default();
    if path.as_os_str().is_empty() {
        let user = rules
            .iter()
            .find(|r| r.action == libc::SECCOMP_RET_USER_NOTIF)
            .map_or(ROOT, |r| r.path.as_str());
        return Err(SeccompError::invalid(
            format!("{ROOT}.listenerPath"),
            format!(
                "SCMP_ACT_NOTIFY (used by {user}) needs the unix socket of a seccomp agent \
                 here; set it or use another action"
            ),
        ));
    }
    Ok(NotifyListener::new(
        path,
        profile.listener_metadata().clone(),
    ))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
