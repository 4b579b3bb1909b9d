//! The syscall seam of the device filter: `bpf(2)` through
//! `libc::syscall(SYS_bpf)` with `#[repr(C)]` prefixes of `union bpf_attr`
//! (the kernel zero-fills the rest), returning the raw kernel answer.

use super::insn::BpfInsn;
use std::ffi::c_long;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

const BPF_PROG_LOAD: i32 = 5;
const BPF_PROG_ATTACH: i32 = 8;
const BPF_PROG_DETACH: i32 = 9;
const BPF_PROG_GET_FD_BY_ID: i32 = 13;
const BPF_PROG_QUERY: i32 = 16;
const BPF_OBJ_GET_INFO_BY_FD: i32 = 15;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// Device programs call no GPL-only helper, so any license string will do.
const LICENSE: &std::ffi::CStr = c"Apache-2.0";
/// The name `bpftool prog` shows (at most 15 bytes of `[A-Za-z0-9_.]`).
const PROG_NAME: &[u8] = b"corral_devices";
/// Size of the verifier log asked for when a load fails.
const LOG_SIZE: usize = 64 * 1024;

/// `bpf_attr` for `BPF_PROG_LOAD`, up to `prog_name` (kernel 4.15).
#[repr(C)]
#[derive(Debug, Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
}

/// `bpf_attr` for `BPF_PROG_ATTACH` and `BPF_PROG_DETACH`.
#[repr(C)]
#[derive(Debug, Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

/// `bpf_attr` for `BPF_PROG_QUERY`.
#[repr(C)]
#[derive(Debug, Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// `bpf_attr` for `BPF_PROG_GET_FD_BY_ID`.
#[repr(C)]
#[derive(Debug, Default)]
struct GetFdByIdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// `bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Debug, Default)]
struct InfoByFdAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `bpf(cmd, attr, sizeof *attr)`.
///
/// # Safety
///
/// `T` must be one of this file's `bpf_attr` prefixes for `cmd`, and every
/// address stored in it must point to memory valid for the kernel to read
/// (or write, for outputs) for the length given beside it, for the call.
unsafe fn bpf<T>(cmd: i32, attr: &mut T) -> io::Result<c_long> {
    let size = size_of::<T>();
    // SAFETY: attr is a live, exclusive reference to size bytes; the caller
    // guarantees the addresses inside it (see this function's contract).
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, std::ptr::from_mut(attr), size) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Takes ownership of a file descriptor the kernel just returned.
fn owned(fd: c_long) -> OwnedFd {
    // SAFETY: fd is a new descriptor from bpf(2), owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// Loads `insns` as a cgroup device program. On failure, the kernel's error
/// and the verifier's log (empty if it had nothing to say).
pub(super) fn prog_load(insns: &[BpfInsn]) -> Result<OwnedFd, (io::Error, String)> {
    match load(insns, None) {
        Ok(fd) => Ok(fd),
        Err(first) => {
            // Again with a log: asking for it up front can fail a load whose
            // log outgrows the buffer.
            let mut log = vec![0u8; LOG_SIZE];
            let _ = load(insns, Some(&mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err((first, tail(&String::from_utf8_lossy(&log[..end]), 30)))
        }
    }
}

/// The last `lines` lines of a verifier log: the rejection is at the end.
fn tail(log: &str, lines: usize) -> String {
    let all: Vec<&str> = log.trim().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn load(insns: &[BpfInsn], log: Option<&mut [u8]>) -> io::Result<OwnedFd> {
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: LICENSE.as_ptr() as u64,
        ..ProgLoadAttr::default()
    };
    attr.prog_name[..PROG_NAME.len()].copy_from_slice(PROG_NAME);
    if let Some(buf) = log {
        attr.log_level = 1;
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    // SAFETY: insns (insn_cnt 8-byte bpf_insn), LICENSE (NUL-terminated) and
    // the log buffer (log_size writable bytes) outlive the call.
    unsafe { bpf(BPF_PROG_LOAD, &mut attr) }.map(owned)
}

/// Attaches `prog` to the cgroup `dir` (`BPF_CGROUP_DEVICE`, allow-multi).
pub(super) fn prog_attach(dir: BorrowedFd, prog: BorrowedFd) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..ProgAttachAttr::default()
    };
    // SAFETY: the attr holds descriptors and numbers, no address.
    unsafe { bpf(BPF_PROG_ATTACH, &mut attr) }.map(drop)
}

/// Detaches `prog` from the cgroup `dir`.
pub(super) fn prog_detach(dir: BorrowedFd, prog: BorrowedFd) -> io::Result<()> {
    let mut attr = ProgAttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..ProgAttachAttr::default()
    };
    // SAFETY: the attr holds descriptors and numbers, no address.
    unsafe { bpf(BPF_PROG_DETACH, &mut attr) }.map(drop)
}

/// The ids of the device programs attached to the cgroup `dir` itself.
pub(super) fn prog_query(dir: BorrowedFd) -> io::Result<Vec<u32>> {
    // The kernel allows 64 per cgroup and attach type; grow if that changes.
    let mut ids = vec![0u32; 64];
    loop {
        let mut attr = ProgQueryAttr {
            target_fd: dir.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            ..ProgQueryAttr::default()
        };
        // SAFETY: prog_ids points to prog_cnt writable u32s that outlive the call.
        let r = unsafe { bpf(BPF_PROG_QUERY, &mut attr) };
        let count = attr.prog_cnt as usize;
        match r {
            Ok(_) => {
                ids.truncate(count);
                return Ok(ids);
            }
            // prog_cnt now holds how many there are.
            Err(e) if e.raw_os_error() == Some(libc::ENOSPC) && count > ids.len() => {
                ids = vec![0; count];
            }
            Err(e) => return Err(e),
        }
    }
}

/// A descriptor for the loaded program `id`.
pub(super) fn prog_fd_by_id(id: u32) -> io::Result<OwnedFd> {
    let mut attr = GetFdByIdAttr {
        prog_id: id,
        ..GetFdByIdAttr::default()
    };
    // SAFETY: the attr holds numbers, no address.
    unsafe { bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) }.map(owned)
}

/// The id of the loaded program `prog` (what [`prog_query`] lists).
pub(super) fn prog_id(prog: BorrowedFd) -> io::Result<u32> {
    // The first two u32 of struct bpf_prog_info: type and id. The kernel
    // fills no more than info_len bytes.
    let mut info = [0u32; 2];
    let mut attr = InfoByFdAttr {
        bpf_fd: prog.as_raw_fd() as u32,
        info_len: size_of_val(&info) as u32,
        info: info.as_mut_ptr() as u64,
    };
    // SAFETY: info points to info_len writable bytes that outlive the call.
    unsafe { bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(info[1])
}
