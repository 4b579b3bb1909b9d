//! The image store (`--docker-store-dir`, default `WORK/store/docker`):
//!
//! ```text
//! STORE/rootfs/sha256-<manifest hex>/   an image's unpacked rootfs, complete
//! STORE/staging/<hex>-<uuid>/          an unpack in progress (removed at start)
//! STORE/locks/sha256-<manifest hex>    flock(2)ed while one launch unpacks it
//! ```
//!
//! A launch resolves the image's name in the registry (the tag can move),
//! then takes the image's lock: the first unpacks into staging, syncs the
//! filesystem and renames the folder into place; the others wait and find
//! it there. A crash mid-unpack leaves only a staging folder, never a
//! half-unpacked rootfs under its digest. Rootfs folders are never
//! changed once in place (containers get an overlay or a copy); the
//! operator's PRUNE_IMAGES removes those no container uses
//! ([`ImageStore::prune`], called by the containerizer, which knows the
//! containers and keeps launches out while it runs).

use super::config::RuntimeConfig;
use super::digest::Digest;
use super::layout::Layout;
use super::reference::Reference;
use super::{ImageError, Problem, unpack};
use corral_api::v1::{Image, ImageType};
use std::collections::HashSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// An image ready for a container.
#[derive(Debug, Clone)]
pub struct Provisioned {
    /// Its name as the task gave it.
    pub name: String,
    /// Its manifest's digest.
    pub manifest: Digest,
    /// The unpacked rootfs in the store (never to be written).
    pub rootfs: PathBuf,
    /// Its runtime defaults.
    pub config: RuntimeConfig,
}

/// Where images come from and are kept.
#[derive(Debug, Clone)]
pub struct ImageStore {
    registry: Option<PathBuf>,
    dir: PathBuf,
}

/// An image's folder name in the store: `sha256-<manifest hex>`.
pub fn folder(manifest: &Digest) -> String {
    format!("sha256-{}", manifest.hex())
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Problem {
    Problem::io(what, path)
}

impl ImageStore {
    /// A store in `dir` for images from the layouts under `registry`.
    pub fn new(registry: Option<PathBuf>, dir: PathBuf) -> ImageStore {
        ImageStore { registry, dir }
    }

    /// The store's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes the store's folders (private to root) and removes unpacks a
    /// previous run left unfinished.
    pub fn prepare(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        for sub in ["rootfs", "locks"] {
            std::fs::create_dir_all(self.dir.join(sub))?;
        }
        let staging = self.dir.join("staging");
        match std::fs::remove_dir_all(&staging) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir_all(staging)
    }

    /// The rootfs folder of the image with manifest `d`.
    pub fn rootfs(&self, d: &Digest) -> PathBuf {
        self.dir.join("rootfs").join(folder(d))
    }

    /// Resolves `image` and makes sure its rootfs is in the store
    /// (blocking: the first launch of an image unpacks it).
    pub fn provision(&self, image: &Image) -> Result<Provisioned, ImageError> {
        let name = match (&image.r#type, &image.docker) {
            (ImageType::Docker, Some(d)) => d.name.clone(),
            (ImageType::Docker, None) => String::new(),
            (t, _) => {
                return Err(ImageError {
                    image: format!("{t:?}"),
                    problem: Problem::Unsupported(
                        "only DOCKER images (from OCI layouts) are supported, not APPC".into(),
                    ),
                });
            }
        };
        self.provision_named(&name).map_err(|problem| ImageError {
            image: name.clone(),
            problem,
        })
    }

    /// The store folder name (`sha256-<manifest hex>`) the image named
    /// `name` has now in the registry (its tag may have moved since it was
    /// unpacked).
    pub fn folder_of(&self, name: &str) -> Result<String, ImageError> {
        let resolve = || -> Result<String, Problem> {
            let reference = Reference::parse(name).map_err(Problem::BadReference)?;
            let registry = self.registry.as_ref().ok_or(Problem::NoRegistry)?;
            let resolved = Layout::open(registry, &reference)?.resolve(&reference)?;
            Ok(folder(&resolved.manifest))
        };
        resolve().map_err(|problem| ImageError {
            image: name.to_string(),
            problem,
        })
    }

    /// Removes every unpacked image whose folder name is in neither
    /// `in_use` nor `keep`; the names removed. The caller makes sure no
    /// launch provisions an image meanwhile.
    pub fn prune(
        &self,
        in_use: &HashSet<String>,
        keep: &HashSet<String>,
    ) -> std::io::Result<Vec<String>> {
        let dir = self.dir.join("rootfs");
        let mut removed = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(removed),
            entries => entries?,
        };
        for e in entries {
            let name = e?.file_name().to_string_lossy().into_owned();
            if in_use.contains(&name) || keep.contains(&name) {
                continue;
            }
            std::fs::remove_dir_all(dir.join(&name))?;
            let _ = std::fs::remove_file(self.dir.join("locks").join(&name));
            removed.push(name);
        }
        removed.sort();
        Ok(removed)
    }

    fn provision_named(&self, name: &str) -> Result<Provisioned, Problem> {
        let reference = Reference::parse(name).map_err(Problem::BadReference)?;
        let registry = self.registry.as_ref().ok_or(Problem::NoRegistry)?;
        let layout = Layout::open(registry, &reference)?;
        let resolved = layout.resolve(&reference)?;
        let rootfs = self.rootfs(&resolved.manifest);
        let lock_path = self
            .dir
            .join("locks")
            .join(format!("sha256-{}", resolved.manifest.hex()));
        let lock = File::create(&lock_path).map_err(io("creating", &lock_path))?;
        // SAFETY: flock on a descriptor this function owns; blocks until
        // another unpack of the same image is done.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io("locking", &lock_path)(std::io::Error::last_os_error()));
        }
        if !rootfs.is_dir() {
            self.unpack(&resolved, &rootfs)?;
        }
        drop(lock);
        Ok(Provisioned {
            name: name.to_string(),
            manifest: resolved.manifest,
            rootfs,
            config: resolved.config.runtime(),
        })
    }

    fn unpack(&self, r: &super::layout::Resolved, rootfs: &Path) -> Result<(), Problem> {
        let staging = self.dir.join("staging").join(format!(
            "{}-{}",
            r.manifest.hex(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&staging).map_err(io("creating", &staging))?;
        let done = r
            .layers
            .iter()
            .try_for_each(|l| unpack::apply(&staging, l))
            .and_then(|()| {
                let d = File::open(&staging).map_err(io("opening", &staging))?;
                // SAFETY: syncfs on an open descriptor.
                if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
                    return Err(io("syncing", &staging)(std::io::Error::last_os_error()));
                }
                std::fs::rename(&staging, rootfs).map_err(io("renaming into place", rootfs))?;
                let parent = rootfs.parent().unwrap_or(Path::new("/"));
                File::open(parent)
                    .and_then(|p| p.sync_all())
                    .map_err(io("syncing", parent))
            });
        if done.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::digest::sha256_hex;
    use crate::images::unpack::tests::{E, Scratch, gzip, tar_of};
    use serde_json::json;

    /// Writes `bytes` as a blob; its descriptor.
    fn blob(layout: &Path, media: &str, bytes: &[u8]) -> serde_json::Value {
        let hex = sha256_hex(bytes);
        std::fs::write(layout.join("blobs/sha256").join(&hex), bytes).unwrap();
        json!({"mediaType": media, "digest": format!("sha256:{hex}"), "size": bytes.len()})
    }

    /// An OCI layout at `dir` with one image tagged `tag`.
    fn layout(dir: &Path, tag: &str) -> serde_json::Value {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let tar = tar_of(&[E(b"etc/marker", tar::EntryType::Regular, b"", b"image")]);
        let layer = blob(
            dir,
            "application/vnd.oci.image.layer.v1.tar+gzip",
            &gzip(&tar),
        );
        let config = json!({"architecture": crate::images::config::host_architecture(),
            "os": "linux", "config": {"Cmd": ["/bin/sh"]},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{}", sha256_hex(&tar))]}});
        let config = blob(
            dir,
            "application/vnd.oci.image.config.v1+json",
            config.to_string().as_bytes(),
        );
        let manifest = json!({"schemaVersion": 2, "config": config, "layers": [layer]});
        let mut m = blob(
            dir,
            "application/vnd.oci.image.manifest.v1+json",
            manifest.to_string().as_bytes(),
        );
        m["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        let index = json!({"schemaVersion": 2, "manifests": [m]});
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
        m
    }

    #[test]
    fn concurrent_launches_unpack_an_image_once() {
        let s = Scratch::new("store-once");
        layout(&s.0.join("registry/busybox"), "latest");
        let store = ImageStore::new(Some(s.0.join("registry")), s.0.join("store"));
        store.prepare().unwrap();
        let image = Image::docker("busybox:latest");
        let got: Vec<Provisioned> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..4)
                .map(|_| sc.spawn(|| store.provision(&image)))
                .collect();
            hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
        });
        assert!(got.iter().all(|p| p.rootfs == got[0].rootfs));
        let marker = std::fs::read_to_string(got[0].rootfs.join("etc/marker")).unwrap();
        assert_eq!(marker, "image");
        assert_eq!(got[0].config.cmd, ["/bin/sh"]);
        assert_eq!(
            std::fs::read_dir(s.0.join("store/rootfs")).unwrap().count(),
            1
        );
        assert_eq!(
            std::fs::read_dir(s.0.join("store/staging"))
                .unwrap()
                .count(),
            0
        );
        // The library/ alias finds the same layout.
        let again = store.provision(&Image::docker("library/busybox")).unwrap();
        assert_eq!(again.rootfs, got[0].rootfs);
    }

    #[test]
    fn bad_images_fail_naming_the_image_and_the_problem() {
        let s = Scratch::new("store-bad");
        let m = layout(&s.0.join("registry/busybox"), "1.0");
        let store = ImageStore::new(Some(s.0.join("registry")), s.0.join("store"));
        store.prepare().unwrap();
        let err = |name: &str| {
            store
                .provision(&Image::docker(name))
                .unwrap_err()
                .to_string()
        };
        let e = err("busybox");
        assert!(
            e.starts_with("image \"busybox\"") && e.contains("no manifest tagged \"latest\""),
            "{e}"
        );
        assert!(e.contains("1.0"), "{e}");
        let e = err("nosuch:latest");
        assert!(
            e.contains("no OCI image layout") && e.contains("registry/nosuch"),
            "{e}"
        );
        let e = err("../etc");
        assert!(e.contains("not a valid image reference"), "{e}");
        // A manifest blob whose bytes changed after the index was written.
        let hex = m["digest"]
            .as_str()
            .unwrap()
            .strip_prefix("sha256:")
            .unwrap();
        let path = s.0.join("registry/busybox/blobs/sha256").join(hex);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] = b' ';
        std::fs::write(&path, bytes).unwrap();
        let e = err("busybox:1.0");
        assert!(e.contains("does not match its digest"), "{e}");
        assert_eq!(
            std::fs::read_dir(s.0.join("store/rootfs")).unwrap().count(),
            0
        );
        let none = ImageStore::new(None, s.0.join("store2"));
        let e = none
            .provision(&Image::docker("busybox"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--docker-registry"), "{e}");
    }
}
