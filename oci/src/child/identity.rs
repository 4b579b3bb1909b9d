//! The process identity, child side: bounding set, user and groups (keeping
//! capabilities across the switch), the capability sets, ambient
//! capabilities and no_new_privs. Raw syscalls only.

use super::Prepared;
use super::report::{Failure, Step};
use crate::sys;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const CAP_V3: u32 = 0x2008_0522;

fn prctl(op: i32, a: u64, b: u64) -> Result<(), i32> {
    // SAFETY: prctl with integer arguments only.
    sys::check(unsafe { libc::prctl(op, a, b, 0u64, 0u64) }).map(drop)
}

/// Switches to the spec's user, groups and capabilities.
pub fn apply(p: &Prepared) -> Result<(), Failure> {
    if let Some(caps) = &p.caps {
        for cap in 0..=p.last_cap {
            if caps.bounding & (1 << cap) == 0 {
                prctl(libc::PR_CAPBSET_DROP, u64::from(cap), 0).map_err(|e| Failure {
                    step: Step::CapBounding,
                    index: cap,
                    errno: e,
                })?;
            }
        }
        prctl(libc::PR_SET_KEEPCAPS, 1, 0).map_err(|e| err(Step::Keepcaps, e))?;
    }
    if p.set_groups {
        sys::setgroups(&p.groups).map_err(|e| err(Step::Setgroups, e))?;
    }
    sys::setresgid(p.gid).map_err(|e| err(Step::Setgid, e))?;
    sys::setresuid(p.uid).map_err(|e| err(Step::Setuid, e))?;
    if let Some(caps) = &p.caps {
        capset(caps.effective, caps.permitted, caps.inheritable)
            .map_err(|e| err(Step::Capset, e))?;
        prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as u64,
            0,
        )
        .map_err(|e| err(Step::Ambient, e))?;
        for cap in 0..=p.last_cap {
            if caps.ambient & (1 << cap) != 0 {
                let raise = prctl(
                    libc::PR_CAP_AMBIENT,
                    libc::PR_CAP_AMBIENT_RAISE as u64,
                    u64::from(cap),
                );
                // Like runc, an ambient capability that is not both permitted
                // and inheritable is skipped (EPERM), not fatal.
                if let Err(e) = raise.or_else(|e| if e == libc::EPERM { Ok(()) } else { Err(e) }) {
                    return Err(Failure {
                        step: Step::Ambient,
                        index: cap,
                        errno: e,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Sets no_new_privs.
pub fn no_new_privs() -> Result<(), Failure> {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0).map_err(|e| err(Step::NoNewPrivs, e))
}

fn err(step: Step, errno: i32) -> Failure {
    Failure {
        step,
        index: 0,
        errno,
    }
}

fn capset(effective: u64, permitted: u64, inheritable: u64) -> Result<(), i32> {
    let mut hdr = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: effective as u32,
            permitted: permitted as u32,
            inheritable: inheritable as u32,
        },
        CapData {
            effective: (effective >> 32) as u32,
            permitted: (permitted >> 32) as u32,
            inheritable: (inheritable >> 32) as u32,
        },
    ];
    // SAFETY: hdr and data are the v3 layout capset(2) expects (two data words).
    let ret = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if ret < 0 { Err(sys::errno()) } else { Ok(()) }
}
