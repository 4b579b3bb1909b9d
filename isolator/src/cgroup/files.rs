//! The syscall seam of the driver: reading and writing one cgroup interface
//! file, with errors that name the cgroup, the file and the value.
//!
//! Writes open the file without `O_CREAT` (a missing file is `ENOENT`, never a
//! confusing `EACCES`) and hand the whole value to one `write(2)`, as cgroupfs
//! parses each write separately.

use super::error::{CgroupError, read_hint, write_hint};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

/// Writes `value` to `cgroup/file` in one `write(2)`; the raw kernel answer.
pub(crate) fn write_raw(cgroup: &Path, file: &str, value: &str) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).open(cgroup.join(file))?;
    let n = f.write(value.as_bytes())?;
    if n != value.len() {
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("short write: {n} of {} bytes", value.len()),
        ));
    }
    Ok(())
}

/// Writes `value` to `cgroup/file`.
pub(crate) fn write(cgroup: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    write_raw(cgroup, file, value).map_err(|e| write_error(cgroup, file, value, e))
}

/// The error for a failed write of `value` to `cgroup/file`.
pub(crate) fn write_error(cgroup: &Path, file: &str, value: &str, e: io::Error) -> CgroupError {
    CgroupError::Write {
        cgroup: cgroup.to_path_buf(),
        file: file.to_string(),
        value: value.to_string(),
        hint: write_hint(&e),
        source: e,
    }
}

/// Reads `cgroup/file` whole; the raw kernel answer.
pub(crate) fn read_raw(cgroup: &Path, file: &str) -> io::Result<String> {
    let mut text = String::new();
    File::open(cgroup.join(file))?.read_to_string(&mut text)?;
    Ok(text)
}

/// Reads `cgroup/file` whole.
pub(crate) fn read(cgroup: &Path, file: &str) -> Result<String, CgroupError> {
    read_raw(cgroup, file).map_err(|e| read_error(cgroup, file, e))
}

/// Reads `cgroup/file`, or `None` when the kernel does not have it there
/// (`ENOENT`: controller not enabled or kernel too old; `EOPNOTSUPP`: PSI off).
pub(crate) fn read_optional(cgroup: &Path, file: &str) -> Result<Option<String>, CgroupError> {
    match read_raw(cgroup, file) {
        Ok(text) => Ok(Some(text)),
        Err(e) if is_absent(&e) => Ok(None),
        Err(e) => Err(read_error(cgroup, file, e)),
    }
}

/// Whether an error means "this file is not there for this cgroup".
pub(crate) fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::EOPNOTSUPP)
    )
}

pub(crate) fn read_error(cgroup: &Path, file: &str, e: io::Error) -> CgroupError {
    CgroupError::Read {
        cgroup: cgroup.to_path_buf(),
        file: file.to_string(),
        hint: read_hint(&e),
        source: e,
    }
}

/// The whitespace-separated words of a file such as cgroup.controllers.
pub(crate) fn words(cgroup: &Path, file: &str) -> Result<Vec<String>, CgroupError> {
    Ok(read(cgroup, file)?
        .split_whitespace()
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("corral-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn write_never_creates_a_missing_file() {
        let dir = scratch("nocreate");
        let err = write(&dir, "memory.max", "1").unwrap_err();
        assert!(!dir.join("memory.max").exists());
        let msg = err.to_string();
        assert!(
            msg.contains("memory.max") && msg.contains("does not exist"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn read_optional_maps_missing_to_none() {
        let dir = scratch("optional");
        assert_eq!(read_optional(&dir, "memory.peak").unwrap(), None);
        std::fs::write(dir.join("memory.peak"), "42\n").unwrap();
        assert_eq!(read_optional(&dir, "memory.peak").unwrap().unwrap(), "42\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
