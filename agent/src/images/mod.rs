//! Container images for tasks whose `ContainerInfo` is
//! `{type: MESOS, mesos: {image: {type: DOCKER, docker: {name}}}}`.
//!
//! Images come from local OCI image layouts (`--docker-registry DIR`:
//! `DIR/<repository>/` holds `oci-layout`, `index.json` and
//! `blobs/sha256/…`; the tag is the manifest's
//! `org.opencontainers.image.ref.name` annotation, `latest` by default).
//! Each image is unpacked once into the store (`--docker-store-dir`),
//! content-addressed by its manifest digest: every blob is checked against
//! its sha256 digest and size, layers (tar, tar+gzip, tar+zstd) are applied in order
//! with their whiteouts, into a staging folder renamed into place only when
//! complete, under a per-image lock so concurrent launches unpack once.
//!
//! Layers are not trusted: no entry can reach outside the rootfs (no `..`,
//! parents resolved with openat2 `RESOLVE_IN_ROOT`, the last component never
//! followed), and device nodes are skipped (`plan.rs`).

mod config;
mod digest;
mod fsat;
mod layout;
mod plan;
mod reference;
mod store;
mod unpack;

pub use config::{ImageConfig, RuntimeConfig};
pub use digest::Digest;
pub use layout::{Descriptor, Index, choose_manifest, choose_platform};
pub use plan::{EntryKind, Step, plan_entry};
pub use reference::Reference;
pub use store::{ImageStore, Provisioned, folder};

use std::path::PathBuf;

/// The text of file `rel` inside the rootfs `root` (resolved there, so a
/// symlink cannot lead out of it); empty when it does not exist.
pub fn read_in_root(root: &std::path::Path, rel: &str) -> std::io::Result<String> {
    use std::io::Read;
    let r = fsat::Root::open(root)?;
    match r.open_file(std::path::Path::new(rel)) {
        Ok(f) => {
            let mut text = String::new();
            f.take(16 << 20).read_to_string(&mut text)?;
            Ok(text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// What went wrong with an image (the image's name is in [`ImageError`]).
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("not a valid image reference: {0}")]
    BadReference(String),
    #[error(
        "the agent has no images: start it with --docker-registry DIR (a folder of OCI image layouts)"
    )]
    NoRegistry,
    #[error("{0}")]
    Unsupported(String),
    #[error("no OCI image layout for it in the registry (tried {})", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotFound(Vec<PathBuf>),
    #[error("bad OCI image layout at {path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("blob {blob} does not match its digest: {message}")]
    DigestMismatch { blob: String, message: String },
    #[error("layer {layer}, entry {entry:?}: {message}")]
    Layer {
        layer: String,
        entry: String,
        message: String,
    },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Problem {
    fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Problem {
        let path = path.to_path_buf();
        move |source| Problem::Io { what, path, source }
    }

    fn layout(path: &std::path::Path, message: impl Into<String>) -> Problem {
        Problem::Layout {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// An image could not be provisioned.
#[derive(Debug, thiserror::Error)]
#[error("image {image:?}: {problem}")]
pub struct ImageError {
    /// The image's name as the task gave it.
    pub image: String,
    pub problem: Problem,
}
