//! The few libseccomp functions corral needs, opened at run time with
//! `dlopen("libseccomp.so.2")` so the build needs neither a C library nor the
//! -dev package (every Debian has libseccomp2: apt depends on it), wrapped in a
//! safe [`Filter`] that owns one libseccomp filter context.
//!
//! libseccomp's global state (its API level) is not documented as thread-safe,
//! so [`Filter::new`] hands out a guard that serialises all use.

use std::ffi::{CString, c_char, c_int, c_uint, c_void};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::{Mutex, MutexGuard, OnceLock};

use super::error::SeccompError;

/// The soname opened; the Debian package libseccomp2 ships it.
pub const SONAME: &str = "libseccomp.so.2";

/// `__NR_SCMP_ERROR`: the name is unknown to libseccomp.
const NR_SCMP_ERROR: c_int = -1;

/// `struct scmp_arg_cmp`: one argument comparison of a rule.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgCmp {
    /// The argument index, 0 to 5.
    pub arg: c_uint,
    /// `enum scmp_compare` (SCMP_CMP_NE = 1 … SCMP_CMP_MASKED_EQ = 7).
    pub op: c_uint,
    /// The value, or the mask for SCMP_CMP_MASKED_EQ.
    pub datum_a: u64,
    /// The masked value for SCMP_CMP_MASKED_EQ.
    pub datum_b: u64,
}

#[repr(C)]
struct ScmpVersion {
    major: c_uint,
    minor: c_uint,
    micro: c_uint,
}

type Ctx = *mut c_void;

/// The resolved entry points. The `Library` keeps them valid for as long as
/// the process lives (it sits in a `static`).
#[derive(Debug)]
struct Api {
    _lib: libloading::Library,
    init: unsafe extern "C" fn(u32) -> Ctx,
    release: unsafe extern "C" fn(Ctx),
    arch_resolve_name: unsafe extern "C" fn(*const c_char) -> u32,
    arch_exist: unsafe extern "C" fn(Ctx, u32) -> c_int,
    arch_add: unsafe extern "C" fn(Ctx, u32) -> c_int,
    syscall_resolve_name: unsafe extern "C" fn(*const c_char) -> c_int,
    rule_add_array: unsafe extern "C" fn(Ctx, u32, c_int, c_uint, *const ArgCmp) -> c_int,
    export_bpf: unsafe extern "C" fn(Ctx, c_int) -> c_int,
    version: unsafe extern "C" fn() -> *const ScmpVersion,
    api_get: unsafe extern "C" fn() -> c_uint,
}

static API: OnceLock<Result<Api, (Option<&'static str>, String)>> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());

/// Copies one function pointer out of the library.
///
/// # Safety
/// `T` must be the exact C signature of `name`.
unsafe fn sym<T: Copy>(
    lib: &libloading::Library,
    name: &'static str,
) -> Result<T, (Option<&'static str>, String)> {
    let cname = format!("{name}\0");
    // SAFETY: the caller guarantees T is the function's real signature; the
    // pointer stays valid because the Library is stored next to it forever.
    let found = unsafe { lib.get::<T>(cname.as_bytes()) };
    found.map(|s| *s).map_err(|e| (Some(name), e.to_string()))
}

/// Resolves one symbol into a field; its type is the prototype from
/// <seccomp.h> (libseccomp 2.5): scmp_filter_ctx is void*, arch tokens and
/// actions are uint32_t, syscall numbers int, struct scmp_arg_cmp is ArgCmp.
macro_rules! load {
    ($lib:expr, $name:literal) => {{
        // SAFETY: the field this initialises has the C prototype of $name
        // (see the macro's doc), which is what `sym` requires.
        unsafe { sym(&$lib, $name) }?
    }};
}

fn open() -> Result<Api, (Option<&'static str>, String)> {
    // SAFETY: libseccomp's initialisers only set up its own tables.
    let lib = unsafe { libloading::Library::new(SONAME) }.map_err(|e| (None, e.to_string()))?;
    Ok(Api {
        init: load!(lib, "seccomp_init"),
        release: load!(lib, "seccomp_release"),
        arch_resolve_name: load!(lib, "seccomp_arch_resolve_name"),
        arch_exist: load!(lib, "seccomp_arch_exist"),
        arch_add: load!(lib, "seccomp_arch_add"),
        syscall_resolve_name: load!(lib, "seccomp_syscall_resolve_name"),
        rule_add_array: load!(lib, "seccomp_rule_add_array"),
        export_bpf: load!(lib, "seccomp_export_bpf"),
        version: load!(lib, "seccomp_version"),
        api_get: load!(lib, "seccomp_api_get"),
        _lib: lib,
    })
}

fn api() -> Result<&'static Api, SeccompError> {
    match API.get_or_init(open) {
        Ok(api) => Ok(api),
        Err((None, reason)) => Err(SeccompError::Load {
            reason: reason.clone(),
        }),
        Err((Some(symbol), reason)) => Err(SeccompError::Symbol {
            symbol,
            reason: reason.clone(),
        }),
    }
}

/// The loaded libseccomp's version, `major.minor.micro`.
pub fn version() -> Result<String, SeccompError> {
    let api = api()?;
    // SAFETY: seccomp_version has no preconditions.
    let v = unsafe { (api.version)() };
    // SAFETY: it returns a pointer to a static, initialised struct.
    let v = unsafe { &*v };
    Ok(format!("{}.{}.{}", v.major, v.minor, v.micro))
}

/// The API level libseccomp detected for the running kernel (3: KILL_PROCESS
/// and LOG, 5: NOTIFY, 6: TSYNC_ESRCH, …).
pub fn api_level() -> Result<u32, SeccompError> {
    let api = api()?;
    let _guard = lock();
    // SAFETY: seccomp_api_get has no preconditions.
    Ok(unsafe { (api.api_get)() })
}

fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// One libseccomp filter context, released on drop. Holds the global lock.
#[derive(Debug)]
pub struct Filter {
    api: &'static Api,
    ctx: Ctx,
    _guard: MutexGuard<'static, ()>,
}

/// A negative libseccomp return as an io::Error.
fn errno(ret: c_int) -> std::io::Error {
    std::io::Error::from_raw_os_error(-ret)
}

impl Filter {
    /// `seccomp_init(default_action)`: a filter for the native architecture.
    /// `None` inside the Ok means libseccomp refused the action.
    pub fn new(default_action: u32) -> Result<Option<Filter>, SeccompError> {
        let api = api()?;
        let guard = lock();
        // SAFETY: seccomp_init only allocates a context; NULL means failure.
        let ctx = unsafe { (api.init)(default_action) };
        Ok((!ctx.is_null()).then_some(Filter {
            api,
            ctx,
            _guard: guard,
        }))
    }

    /// `seccomp_arch_resolve_name`: the arch token for a libseccomp name
    /// (`"x86_64"`), or None when this libseccomp does not know it.
    pub fn arch_token(&self, name: &str) -> Option<u32> {
        let cname = CString::new(name).ok()?;
        // SAFETY: cname is a valid NUL-terminated string for the call.
        let token = unsafe { (self.api.arch_resolve_name)(cname.as_ptr()) };
        (token != 0).then_some(token)
    }

    /// Adds an architecture unless the filter has it already.
    pub fn add_arch(&mut self, token: u32) -> Result<(), std::io::Error> {
        // SAFETY: ctx is a live context owned by self.
        let exists = unsafe { (self.api.arch_exist)(self.ctx, token) };
        if exists == 0 {
            return Ok(());
        }
        // SAFETY: ctx is a live context owned by self.
        let ret = unsafe { (self.api.arch_add)(self.ctx, token) };
        if ret < 0 && ret != -libc::EEXIST {
            return Err(errno(ret));
        }
        Ok(())
    }

    /// `seccomp_syscall_resolve_name`: the native number (or libseccomp's
    /// pseudo number for a syscall other architectures have), None if unknown.
    pub fn syscall(&self, name: &str) -> Option<c_int> {
        let cname = CString::new(name).ok()?;
        // SAFETY: cname is a valid NUL-terminated string for the call.
        let nr = unsafe { (self.api.syscall_resolve_name)(cname.as_ptr()) };
        (nr != NR_SCMP_ERROR).then_some(nr)
    }

    /// `seccomp_rule_add_array`: adds one rule (conditions and-ed).
    pub fn add_rule(&mut self, action: u32, nr: c_int, conds: &[ArgCmp]) -> std::io::Result<()> {
        let count = c_uint::try_from(conds.len()).unwrap_or(c_uint::MAX);
        // SAFETY: ctx is live; conds points to `count` valid scmp_arg_cmp
        // structs (ArgCmp is repr(C) with the same layout) or is unused if 0.
        let ret = unsafe { (self.api.rule_add_array)(self.ctx, action, nr, count, conds.as_ptr()) };
        if ret < 0 { Err(errno(ret)) } else { Ok(()) }
    }

    /// `seccomp_export_bpf` into a memfd, read back as instructions.
    pub fn export(&self) -> std::io::Result<Vec<libc::sock_filter>> {
        // SAFETY: the name is a valid C string; memfd_create has no other
        // preconditions and returns a new fd or -1.
        let fd = unsafe { libc::memfd_create(c"corral-seccomp-bpf".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just created and nothing else owns it.
        let mut file = unsafe { File::from_raw_fd(fd) };
        // SAFETY: ctx is live and fd is an open, writable file.
        let ret = unsafe { (self.api.export_bpf)(self.ctx, file.as_raw_fd()) };
        if ret < 0 {
            return Err(errno(ret));
        }
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))?;
        file.read_to_end(&mut bytes)?;
        decode(&bytes)
    }
}

/// Splits exported bytes into `struct sock_filter`s (8 bytes each, native
/// endianness: u16 code, u8 jt, u8 jf, u32 k).
fn decode(bytes: &[u8]) -> std::io::Result<Vec<libc::sock_filter>> {
    if !bytes.len().is_multiple_of(8) {
        return Err(std::io::Error::other(format!(
            "libseccomp exported {} bytes, not a whole number of 8-byte BPF instructions",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect())
}

impl Drop for Filter {
    fn drop(&mut self) {
        // SAFETY: ctx is live and released exactly once, here.
        unsafe { (self.api.release)(self.ctx) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_reports_a_version() {
        let version = version().unwrap();
        assert!(version.starts_with("2."), "{version}");
        let level = api_level().unwrap();
        assert!(level >= 1, "api level {level}");
    }

    #[test]
    fn resolves_names_and_rejects_unknown_ones() {
        let f = Filter::new(libc::SECCOMP_RET_ALLOW).unwrap().unwrap();
        assert!(f.syscall("read").is_some());
        assert_eq!(f.syscall("no_such_syscall"), None);
        assert!(f.arch_token("x86_64").is_some());
        assert_eq!(f.arch_token("vax"), None);
    }

    #[test]
    fn decode_rejects_partial_instructions() {
        assert!(decode(&[0; 12]).is_err());
        assert_eq!(decode(&[0; 16]).unwrap().len(), 2);
    }
}
