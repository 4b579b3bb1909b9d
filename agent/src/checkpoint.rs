//! Durable files of the agent: whole files written atomically (temp file,
//! fsync, rename, fsync of the folder) and append-only logs of JSON lines
//! whose every record is fsync'd before the caller acts on it. A torn last
//! line (a crash mid-append) is ignored on read; anything else unreadable
//! is an error naming the file and the line.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A checkpoint file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError {
    let path = path.to_path_buf();
    move |source| CheckpointError::Io {
        action,
        path,
        source,
    }
}

/// Writes `value` as JSON to `path` atomically and durably.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), CheckpointError> {
    let bytes = serde_json::to_vec_pretty(value).expect("checkpoint records serialize");
    write_bytes(path, &bytes)
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
    f.write_all(bytes).map_err(io("writing", &tmp))?;
    f.sync_all().map_err(io("syncing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("renaming into place", path))?;
    sync_dir(dir)
}

/// fsyncs a folder, so a rename or a new file in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), CheckpointError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("syncing folder", dir))
}

/// Reads a JSON file written by [`write_json`]; `None` if there is none.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, CheckpointError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("reading", path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            message: e.to_string(),
        })
}

/// Appends one JSON record as a line and fsyncs it.
pub fn append_json<T: Serialize>(path: &Path, record: &T) -> Result<(), CheckpointError> {
    let mut line = serde_json::to_vec(record).expect("checkpoint records serialize");
    line.push(b'\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io("opening", path))?;
    f.write_all(&line).map_err(io("appending to", path))?;
    f.sync_data().map_err(io("syncing", path))
}

/// The records of a log written by [`append_json`], in order. A last line
/// without its newline (a torn append) is dropped.
pub fn read_log<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, CheckpointError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("reading", path)(e)),
    };
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| CheckpointError::Corrupt {
                path: path.to_path_buf(),
                line: i + 1,
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("corral-ckpt-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn json_files_round_trip_and_missing_is_none() {
        let d = scratch("json");
        let p = d.join("sub/a.json");
        assert_eq!(read_json::<Vec<u32>>(&p).unwrap(), None);
        write_json(&p, &vec![1u32, 2]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&p).unwrap(), Some(vec![1, 2]));
        assert!(!p.with_extension("tmp").exists());
        std::fs::write(&p, "{oops").unwrap();
        let e = read_json::<Vec<u32>>(&p).unwrap_err().to_string();
        assert!(e.contains("a.json line 1"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_dropped_but_a_bad_middle_line_is_an_error() {
        let d = scratch("log");
        let p = d.join("log");
        append_json(&p, &1u32).unwrap();
        append_json(&p, &2u32).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"3")
            .unwrap();
        assert_eq!(read_log::<u32>(&p).unwrap(), vec![1, 2]);
        std::fs::write(&p, "1\nx\n2\n").unwrap();
        let e = read_log::<u32>(&p).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
