//! Paths inside the container's root, opened by the child: every path is
//! resolved by openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) against an
//! O_PATH descriptor of the rootfs, so `..` and symlinks, absolute or
//! relative, stay inside the rootfs whatever the image holds; what is
//! missing is made one component at a time (mkdirat, openat with O_EXCL)
//! in the directory the previous component resolved to, a dangling symlink
//! being followed inside the root; mounts then go onto the opened
//! descriptor through `/proc/self/fd/N`, which reaches exactly the file the
//! descriptor holds. Allocation-free: paths are walked in stack buffers.

use crate::plan::paths::{self, Leaf};
use crate::sys;
use std::ffi::CStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

const PATH_MAX: usize = libc::PATH_MAX as usize;
/// Symlinks followed while making one path (the kernel's MAXSYMLINKS).
const MAX_LINKS: u32 = 40;

/// Opens `path` (relative to the root) inside `root` with `flags`.
pub fn open(root: BorrowedFd, path: &CStr, flags: i32) -> Result<OwnedFd, i32> {
    let fd = sys::openat2(root.as_raw_fd(), path, flags, 0, sys::RESOLVE_CONTAINED)?;
    // SAFETY: openat2 just returned fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn flags_for(leaf: Leaf) -> i32 {
    match leaf {
        Leaf::Dir => libc::O_PATH | libc::O_DIRECTORY,
        Leaf::File | Leaf::Existing => libc::O_PATH,
    }
}

/// Opens (O_PATH) `path` inside `root`, first making what is missing: a
/// directory for every component but the last, `leaf` for the last. With
/// `Leaf::Existing` nothing is made (ENOENT when missing).
pub fn make(root: BorrowedFd, path: &CStr, leaf: Leaf) -> Result<OwnedFd, i32> {
    match open(root, path, flags_for(leaf)) {
        Err(libc::ENOENT) if leaf != Leaf::Existing => {}
        done => return done,
    }
    let mut bufs = [[0u8; PATH_MAX + 1]; 2];
    let mut link = [0u8; PATH_MAX];
    let bytes = path.to_bytes();
    if bytes.len() > PATH_MAX {
        return Err(libc::ENAMETOOLONG);
    }
    bufs[0][..bytes.len()].copy_from_slice(bytes);
    let (mut cur, mut len, mut links) = (0, bytes.len(), 0);
    loop {
        let (start, end, n) = match walk(root, &mut bufs[cur], len, leaf, &mut link)? {
            Walked::Opened(fd) => return Ok(fd),
            Walked::Link { start, end, n } => (start, end, n),
        };
        links += 1;
        if links > MAX_LINKS {
            return Err(libc::ELOOP);
        }
        let [a, b] = &mut bufs;
        let (from, to) = if cur == 0 { (a, b) } else { (b, a) };
        len = paths::splice(&from[..len], start, end, &link[..n], to)?;
        cur = 1 - cur;
    }
}

enum Walked {
    Opened(OwnedFd),
    /// Component `start..end` is a symlink to the missing `link[..n]`.
    Link {
        start: usize,
        end: usize,
        n: usize,
    },
}

/// One walk of `buf[..len]` from the root, making missing components.
fn walk(
    root: BorrowedFd,
    buf: &mut [u8; PATH_MAX + 1],
    len: usize,
    leaf: Leaf,
    link: &mut [u8; PATH_MAX],
) -> Result<Walked, i32> {
    let mut parent: Option<OwnedFd> = None;
    let mut at = 0;
    while let Some((start, end)) = paths::next_component(&buf[..len], at) {
        let kind = if paths::is_last(&buf[..len], end) {
            leaf
        } else {
            Leaf::Dir
        };
        let dir = parent.as_ref().map_or(root, |f| f.as_fd());
        // NUL-terminate the prefix in place (len <= PATH_MAX, so end fits).
        let saved = buf[end];
        buf[end] = 0;
        let stepped = step(root, dir, &buf[..=end], start, kind, link);
        buf[end] = saved;
        match stepped? {
            Stepped::Opened(fd) => parent = Some(fd),
            Stepped::Link(n) => return Ok(Walked::Link { start, end, n }),
        }
        at = end;
    }
    parent.map(Walked::Opened).ok_or(libc::ENOENT)
}

enum Stepped {
    Opened(OwnedFd),
    Link(usize),
}

/// Opens the prefix `buf` (NUL-terminated, its last component starting at
/// `start`) inside the root, making that component in `dir` (what the
/// previous prefix resolved to) when it is missing.
fn step(
    root: BorrowedFd,
    dir: BorrowedFd,
    buf: &[u8],
    start: usize,
    kind: Leaf,
    link: &mut [u8; PATH_MAX],
) -> Result<Stepped, i32> {
    let prefix = CStr::from_bytes_until_nul(buf).map_err(|_| libc::EINVAL)?;
    let name = CStr::from_bytes_until_nul(&buf[start..]).map_err(|_| libc::EINVAL)?;
    let flags = flags_for(kind);
    match open(root, prefix, flags) {
        Err(libc::ENOENT) if !paths::is_dot(name.to_bytes()) => {}
        opened => return opened.map(Stepped::Opened),
    }
    match create(dir, name, kind) {
        Ok(()) | Err(libc::EEXIST) => {}
        Err(e) => return Err(e),
    }
    match open(root, prefix, flags) {
        // It exists and does not resolve: a symlink to something missing.
        Err(libc::ENOENT) => readlink(dir, name, link)
            .map(Stepped::Link)
            .ok_or(libc::ENOENT),
        opened => opened.map(Stepped::Opened),
    }
}

/// Makes `name` in `dir`; never follows a symlink at `name` (EEXIST).
fn create(dir: BorrowedFd, name: &CStr, kind: Leaf) -> Result<(), i32> {
    match kind {
        Leaf::Dir => {
            // SAFETY: name is a valid NUL-terminated string; dir an open fd.
            sys::check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o755) }).map(drop)
        }
        Leaf::File => {
            let flags =
                libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC;
            // SAFETY: as above; the mode is a plain integer.
            let fd =
                sys::check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, 0o644) })?;
            // SAFETY: openat just returned fd; nothing else owns it.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            Ok(())
        }
        Leaf::Existing => Err(libc::ENOENT),
    }
}

/// The target of the symlink `name` in `dir` into `buf`; None if it is not
/// a symlink (or is too long).
fn readlink(dir: BorrowedFd, name: &CStr, buf: &mut [u8; PATH_MAX]) -> Option<usize> {
    // SAFETY: name is a valid NUL-terminated string; buf is writable for
    // its length.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n > 0 && (n as usize) < buf.len()).then_some(n as usize)
}

/// Whether the open file `fd` is a directory.
pub fn is_dir(fd: BorrowedFd) -> Result<bool, i32> {
    // SAFETY: an all-zero stat is a valid out-value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fd is open (O_PATH allows fstat); st is a valid out-pointer.
    sys::check(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) })?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

/// `/proc/self/fd/N` for the descriptor N, built on the stack: mount(2) on
/// it acts on exactly the file the descriptor holds, however it was reached.
pub struct ProcFd {
    buf: [u8; 32],
}

impl ProcFd {
    pub fn new(fd: RawFd) -> ProcFd {
        const PREFIX: &[u8] = b"/proc/self/fd/";
        let mut buf = [0u8; 32];
        buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = [0u8; 10];
        let (mut n, mut count) = (fd.unsigned_abs(), 0);
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits[..count].iter().rev().enumerate() {
            buf[PREFIX.len() + i] = *d;
        }
        ProcFd { buf }
    }

    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/proc/self/fd")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fd_paths_name_the_descriptor() {
        assert_eq!(ProcFd::new(0).as_cstr(), c"/proc/self/fd/0");
        assert_eq!(ProcFd::new(7).as_cstr(), c"/proc/self/fd/7");
        assert_eq!(ProcFd::new(1234).as_cstr(), c"/proc/self/fd/1234");
        assert_eq!(ProcFd::new(i32::MAX).as_cstr(), c"/proc/self/fd/2147483647");
    }
}

#[cfg(test)]
mod walk_tests {
    //! The walk on a real directory tree: openat2 and the *at calls need no
    //! root, only mounting does.
    use super::*;
    use std::path::{Path, PathBuf};

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("corral-inroot-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("rootfs")).unwrap();
            std::fs::create_dir_all(dir.join("outside")).unwrap();
            Scratch(dir)
        }

        fn rootfs(&self) -> PathBuf {
            self.0.join("rootfs")
        }

        fn outside(&self) -> PathBuf {
            self.0.join("outside")
        }

        fn root_fd(&self) -> OwnedFd {
            std::fs::File::open(self.rootfs()).unwrap().into()
        }

        fn link(&self, at: &str, target: impl AsRef<Path>) {
            std::os::unix::fs::symlink(target, self.rootfs().join(at)).unwrap();
        }

        fn outside_is_empty(&self) {
            let left: Vec<_> = std::fs::read_dir(self.outside()).unwrap().collect();
            assert!(left.is_empty(), "made outside the root: {left:?}");
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn c(s: &str) -> std::ffi::CString {
        std::ffi::CString::new(s).unwrap()
    }

    #[test]
    fn an_absolute_symlink_to_a_host_path_is_followed_inside_the_root() {
        let s = Scratch::new("abs");
        s.link("data", s.outside());
        let root = s.root_fd();
        make(root.as_fd(), &c("data/file"), Leaf::File).unwrap();
        s.outside_is_empty();
        let inside = s.rootfs().join(s.outside().strip_prefix("/").unwrap());
        assert!(inside.join("file").is_file(), "{}", inside.display());
    }

    #[test]
    fn dot_dot_symlinks_stop_at_the_root() {
        let s = Scratch::new("dotdot");
        s.link("up", "../../../../../../outside");
        let root = s.root_fd();
        let fd = make(root.as_fd(), &c("up/x/y"), Leaf::Dir).unwrap();
        assert!(is_dir(fd.as_fd()).unwrap());
        s.outside_is_empty();
        assert!(s.rootfs().join("outside/x/y").is_dir());
        // Lexical `..` in the path itself is the plan's business, but the
        // walk stops it at the root too.
        make(root.as_fd(), &c("../../z"), Leaf::Dir).unwrap();
        assert!(s.rootfs().join("z").is_dir());
    }

    #[test]
    fn existing_symlinks_inside_the_root_are_followed() {
        let s = Scratch::new("lib");
        std::fs::create_dir_all(s.rootfs().join("usr/lib")).unwrap();
        s.link("lib", "usr/lib");
        let root = s.root_fd();
        make(root.as_fd(), &c("lib/modules"), Leaf::Dir).unwrap();
        assert!(s.rootfs().join("usr/lib/modules").is_dir());
        // Already there: opened, not made again.
        make(root.as_fd(), &c("lib/modules"), Leaf::Dir).unwrap();
    }

    #[test]
    fn missing_existing_paths_loops_and_files_as_directories_fail() {
        let s = Scratch::new("fail");
        let root = s.root_fd();
        assert_eq!(
            make(root.as_fd(), &c("proc/kcore"), Leaf::Existing).err(),
            Some(libc::ENOENT)
        );
        assert!(!s.rootfs().join("proc").exists());
        s.link("a", "b");
        s.link("b", "a");
        assert_eq!(
            make(root.as_fd(), &c("a/x"), Leaf::Dir).err(),
            Some(libc::ELOOP)
        );
        std::fs::write(s.rootfs().join("f"), "").unwrap();
        assert_eq!(
            make(root.as_fd(), &c("f/x"), Leaf::Dir).err(),
            Some(libc::ENOTDIR)
        );
    }

    #[test]
    fn magic_links_are_refused() {
        let host_root: OwnedFd = std::fs::File::open("/").unwrap().into();
        let got = open(host_root.as_fd(), c"proc/self/root/etc", libc::O_PATH);
        assert_eq!(got.err(), Some(libc::ELOOP));
    }
}
