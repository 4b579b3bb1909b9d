//! Disk usage of a sandbox, as Mesos' `disk/du` isolator measures it: the
//! blocks allocated to every file below it (not following symlinks), in
//! bytes.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// lstat(2)'s allocated bytes and whether it is a folder. (Not std's
/// metadata: its statx call leaves the block count 0 on filesystems that do
/// not report it there, such as the VM's overlay over 9p.)
fn allocated(path: &Path) -> Option<(u64, bool)> {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: an all-zero stat is valid output storage.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid path, st valid storage.
    if unsafe { libc::lstat(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let is_dir = st.st_mode & libc::S_IFMT == libc::S_IFDIR;
    Some((st.st_blocks as u64 * 512, is_dir))
}

/// Bytes allocated below `dir` (0 if it is gone).
pub fn usage(dir: &Path) -> u64 {
    let Some((mut total, _)) = allocated(dir) else {
        return 0;
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Some((bytes, is_dir)) = allocated(&e.path()) else {
                continue;
            };
            if is_dir {
                stack.push(e.path());
            }
            total += bytes;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_allocated_blocks_of_every_file_below() {
        let d = std::env::temp_dir().join(format!("corral-du-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        let empty = super::usage(&d);
        std::fs::write(d.join("a/b/data"), vec![7u8; 1 << 20]).unwrap();
        std::os::unix::fs::symlink("/usr", d.join("link")).unwrap();
        let full = super::usage(&d);
        assert!(full >= empty + (1 << 20), "{empty} -> {full}");
        assert!(
            full < empty + (2 << 20),
            "the symlink is not followed: {full}"
        );
        std::fs::remove_dir_all(&d).unwrap();
        assert_eq!(super::usage(&d), 0);
    }
}
