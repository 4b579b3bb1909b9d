//! `GET /sandbox/{container_id}/{file}?offset=N&length=M`: a piece of a
//! task's `stdout` or `stderr` in its sandbox, as raw bytes, so a client
//! (`corral run`) can follow a task's output while it runs and after it
//! ends (sandboxes outlive their containers).
//!
//! Only those two files, only containers named by a UUID. The sandbox
//! belongs to the task's user, who may have replaced a file with a symlink
//! to something of the host's: the file is opened with `O_NOFOLLOW` and
//! read only when it is a regular file with one link, so the agent (root)
//! never serves anything but what the task wrote itself.

use crate::paths::ContainerId;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use super::Shared;

/// The most one request returns.
pub const MAX_LENGTH: u64 = 1024 * 1024;

/// A read request: which bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub offset: u64,
    /// At most this many bytes.
    pub length: u64,
}

/// `offset` and `length` from a query string (both optional; `length` is
/// capped at [`MAX_LENGTH`]); other keys are ignored. Pure.
pub fn parse_query(query: Option<&str>) -> Result<Range, String> {
    let mut range = Range {
        offset: 0,
        length: MAX_LENGTH,
    };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("'{key}' must be a non-negative integer, not '{value}'"))
        };
        match key {
            "offset" => range.offset = number()?,
            "length" => range.length = number()?.min(MAX_LENGTH),
            _ => {}
        }
    }
    Ok(range)
}

/// Why a read is refused.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("'{0}' is not a container id")]
    BadId(String),
    #[error("only 'stdout' and 'stderr' can be read, not '{0}'")]
    BadFile(String),
    #[error("{0}")]
    BadQuery(String),
    #[error("no {file} in the sandbox of container {id}")]
    NotFound { id: String, file: String },
    #[error("{file} of container {id} is not a regular file the task wrote")]
    NotRegular { id: String, file: String },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl SandboxError {
    fn status(&self) -> StatusCode {
        match self {
            SandboxError::BadId(_) | SandboxError::BadFile(_) | SandboxError::BadQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            SandboxError::NotFound { .. } => StatusCode::NOT_FOUND,
            SandboxError::NotRegular { .. } => StatusCode::FORBIDDEN,
            SandboxError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Reads `range` of `file` (a bare name) in the folder `sandbox`, never
/// following a symlink and refusing anything but a regular file with one
/// link. Past the end gives no bytes.
pub fn read_range(sandbox: &Path, file: &str, range: Range) -> Result<Vec<u8>, SandboxError> {
    let path = sandbox.join(file);
    let id = sandbox
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let open = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path);
    let mut f = match open {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SandboxError::NotFound {
                id,
                file: file.into(),
            });
        }
        // ELOOP: the last component is a symlink.
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(SandboxError::NotRegular {
                id,
                file: file.into(),
            });
        }
        Err(source) => {
            return Err(SandboxError::Io {
                path: path.display().to_string(),
                source,
            });
        }
    };
    let io = |source| SandboxError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = f.metadata().map_err(io)?;
    if !meta.file_type().is_file() || meta.nlink() != 1 {
        return Err(SandboxError::NotRegular {
            id,
            file: file.into(),
        });
    }
    if range.offset >= meta.len() {
        return Ok(Vec::new());
    }
    f.seek(SeekFrom::Start(range.offset)).map_err(io)?;
    let mut out = Vec::new();
    f.take(range.length).read_to_end(&mut out).map_err(io)?;
    Ok(out)
}

fn checked(id: &str, file: &str, uri: &Uri) -> Result<(ContainerId, Range), SandboxError> {
    let cid = ContainerId::parse(id).ok_or_else(|| SandboxError::BadId(id.into()))?;
    if file != "stdout" && file != "stderr" {
        return Err(SandboxError::BadFile(file.into()));
    }
    let range = parse_query(uri.query()).map_err(SandboxError::BadQuery)?;
    Ok((cid, range))
}

/// The handler.
pub async fn read(
    State(shared): State<Shared>,
    UrlPath((id, file)): UrlPath<(String, String)>,
    uri: Uri,
) -> Response {
    let answer = match checked(&id, &file, &uri) {
        Err(e) => Err(e),
        Ok((cid, range)) => {
            let sandbox = shared.containerizer.paths().sandbox(&cid);
            tokio::task::spawn_blocking(move || read_range(&sandbox, &file, range))
                .await
                .unwrap_or_else(|e| {
                    Err(SandboxError::Io {
                        path: "sandbox".into(),
                        source: std::io::Error::other(e.to_string()),
                    })
                })
        }
    };
    match answer {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(e) => (e.status(), e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("corral-sandbox-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_query_gives_offset_and_a_capped_length() {
        assert_eq!(
            parse_query(None),
            Ok(Range {
                offset: 0,
                length: MAX_LENGTH
            })
        );
        assert_eq!(
            parse_query(Some("offset=5&length=3&x=y")),
            Ok(Range {
                offset: 5,
                length: 3
            })
        );
        assert_eq!(
            parse_query(Some("length=99999999")).unwrap().length,
            MAX_LENGTH
        );
        assert!(
            parse_query(Some("offset=-1"))
                .unwrap_err()
                .contains("offset")
        );
        assert!(parse_query(Some("offset")).is_err());
    }

    #[test]
    fn ranges_of_a_regular_file() {
        let d = dir("regular");
        std::fs::write(d.join("stdout"), b"hello world").unwrap();
        let r = |offset, length| read_range(&d, "stdout", Range { offset, length }).unwrap();
        assert_eq!(r(0, MAX_LENGTH), b"hello world");
        assert_eq!(r(6, 3), b"wor");
        assert_eq!(r(11, 10), b"");
        assert_eq!(r(100, 10), b"");
        assert!(matches!(
            read_range(
                &d,
                "stderr",
                Range {
                    offset: 0,
                    length: 1
                }
            ),
            Err(SandboxError::NotFound { .. })
        ));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn symlinks_hard_links_and_fifos_are_refused() {
        let d = dir("hostile");
        std::fs::write(d.join("secret"), b"host file").unwrap();
        std::os::unix::fs::symlink(d.join("secret"), d.join("stdout")).unwrap();
        std::fs::hard_link(d.join("secret"), d.join("stderr")).unwrap();
        let all = Range {
            offset: 0,
            length: MAX_LENGTH,
        };
        for file in ["stdout", "stderr"] {
            assert!(
                matches!(
                    read_range(&d, file, all),
                    Err(SandboxError::NotRegular { .. })
                ),
                "{file}"
            );
        }
        let fifo =
            std::ffi::CString::new(d.join("fifo").into_os_string().into_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_range(&d, "fifo", all),
            Err(SandboxError::NotRegular { .. })
        ));
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn only_stdout_and_stderr_of_uuid_containers() {
        let uri: Uri = "/sandbox/x/stdout".parse().unwrap();
        let id = ContainerId::random();
        assert!(checked(id.as_str(), "stdout", &uri).is_ok());
        assert!(matches!(
            checked("..", "stdout", &uri),
            Err(SandboxError::BadId(_))
        ));
        assert!(matches!(
            checked(id.as_str(), "../../meta/agent.json", &uri),
            Err(SandboxError::BadFile(_))
        ));
        let bad: Uri = "/sandbox/x/stdout?offset=x".parse().unwrap();
        assert!(matches!(
            checked(id.as_str(), "stdout", &bad),
            Err(SandboxError::BadQuery(_))
        ));
    }
}
