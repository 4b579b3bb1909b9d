//! Bundles: reading `config.json` with errors that name the JSON path of the
//! problem, and validating what the runtime needs before it touches anything.

mod validate;

pub use validate::{selinux_enabled, validate, warnings};

/// The config.json `corral oci spec` writes: runc's default, without a
/// terminal, hostname `corral`.
pub const DEFAULT_SPEC: &str = include_str!("default.json");

use oci_spec::runtime::Spec;
use std::path::{Path, PathBuf};

/// What is wrong with a bundle.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("reading {file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: at {path}: {message}")]
    Parse {
        file: PathBuf,
        path: String,
        message: String,
    },
    #[error("{file}: {field}: {problem}")]
    Invalid {
        file: PathBuf,
        field: String,
        problem: String,
    },
}

/// A loaded and validated bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory, absolute.
    pub dir: PathBuf,
    /// The parsed spec.
    pub spec: Spec,
    /// The root filesystem, absolute.
    pub rootfs: PathBuf,
}

/// Loads `dir/config.json`, parses it and validates it.
pub fn load(dir: &Path) -> Result<Bundle, SpecError> {
    let dir = std::path::absolute(dir).map_err(|source| SpecError::Read {
        file: dir.to_path_buf(),
        source,
    })?;
    let file = dir.join("config.json");
    let text = std::fs::read(&file).map_err(|source| SpecError::Read {
        file: file.clone(),
        source,
    })?;
    let spec = parse(&file, &text)?;
    validate(&file, &dir, &spec)?;
    let root = spec
        .root()
        .as_ref()
        .map(|r| r.path().clone())
        .unwrap_or_default();
    let rootfs = if root.is_absolute() {
        root
    } else {
        dir.join(root)
    };
    Ok(Bundle { dir, spec, rootfs })
}

/// Parses config.json text; errors name the JSON path (`process.args[0]`).
pub fn parse(file: &Path, text: &[u8]) -> Result<Spec, SpecError> {
    // Plain serde first: tracking the path costs on every field, and only
    // a failed parse needs it, so that one is parsed again with tracking.
    if let Ok(spec) = serde_json::from_slice(text) {
        return Ok(spec);
    }
    let de = &mut serde_json::Deserializer::from_slice(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        SpecError::Parse {
            file: file.to_path_buf(),
            path: if path == "." {
                "(top level)".to_string()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("config.json"), text.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn malformed_json_names_the_place() {
        let e = err(r#"{"ociVersion": "1.0.2", "process": {"args": ["sh", 3]}}"#);
        assert!(e.contains("process.args[1]"), "{e}");
        let e = err(r#"{"ociVersion": "1.0.2", "linux": {"namespaces": [{"type": "bogus"}]}}"#);
        assert!(e.contains("linux.namespaces[0].type"), "{e}");
        let e = err("{not json");
        assert!(e.contains("config.json"), "{e}");
    }

    #[test]
    fn a_minimal_spec_parses() {
        let spec = parse(
            Path::new("config.json"),
            br#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","user":{"uid":0,"gid":0},"args":["true"]}}"#,
        )
        .unwrap();
        assert_eq!(spec.version(), "1.0.2");
    }
}
