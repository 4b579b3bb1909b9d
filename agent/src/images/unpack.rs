//! Applying layers to a rootfs folder: each tar entry is planned
//! (`plan.rs`) and then made through a descriptor of its parent folder
//! resolved inside the root (`fsat.rs`). What an entry replaces is removed
//! first (a folder stays a folder); owners are kept when the agent runs as
//! root; permission bits (setuid included: tasks run with no_new_privs)
//! and file modification times are kept. The blob is hashed as it is read
//! and checked against its digest (and the tar stream against the
//! config's diff_id) once the layer is applied; the caller throws the
//! whole rootfs away on any error.

mod zstd;

use super::Problem;
use super::digest::{self, Hashing};
use super::fsat::{Root, at, remove_at};
use super::layout::{Compression, Layer};
use super::plan::{EntryKind, Made, Step, plan_entry};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

fn kind(t: tar::EntryType) -> EntryKind {
    use tar::EntryType as T;
    match t {
        T::Regular | T::Continuous => EntryKind::File,
        T::Directory => EntryKind::Dir,
        T::Symlink => EntryKind::Symlink,
        T::Link => EntryKind::HardLink,
        T::Fifo => EntryKind::Fifo,
        T::Char => EntryKind::CharDevice,
        T::Block => EntryKind::BlockDevice,
        other => EntryKind::Other(other.as_byte()),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Applies `layer` to the rootfs at `root`.
pub fn apply(root: &Path, layer: &Layer) -> Result<(), Problem> {
    let file = File::open(&layer.path).map_err(Problem::io("opening layer", &layer.path))?;
    let mut blob = Hashing::new(io::BufReader::new(file));
    let root = Root::open(root).map_err(Problem::io("opening", root))?;
    let applied = match layer.compression {
        Compression::None => entries(&root, layer, Hashing::new(&mut blob)),
        Compression::Gzip => entries(
            &root,
            layer,
            Hashing::new(flate2::read::MultiGzDecoder::new(&mut blob)),
        ),
        Compression::Zstd => entries(&root, layer, Hashing::new(zstd::Frames::new(&mut blob))),
    };
    let (hex, size) = blob
        .finish()
        .map_err(Problem::io("reading layer", &layer.path))?;
    let mismatch = |message| Problem::DigestMismatch {
        blob: layer.path.display().to_string(),
        message,
    };
    // A blob that is not what its digest says is reported as such, even
    // when it broke the tar stream first.
    digest::check(&layer.digest, layer.size, &hex, size).map_err(mismatch)?;
    let tar_hash = applied?;
    if let Some(diff) = &layer.diff_id
        && diff.hex() != tar_hash
    {
        return Err(mismatch(format!(
            "its uncompressed content hashes to sha256:{tar_hash}, the config's diff_id is {diff}"
        )));
    }
    Ok(())
}

/// Applies every entry of the tar stream; the sha256 hex of the stream.
fn entries<R: Read>(root: &Root, layer: &Layer, mut tar_in: Hashing<R>) -> Result<String, Problem> {
    let bad = |entry: &str, message: String| Problem::Layer {
        layer: layer.digest.to_string(),
        entry: entry.to_string(),
        message,
    };
    let read_err = |e: io::Error| bad("", format!("not a readable tar stream: {e}"));
    let mut made = Made::default();
    {
        let mut archive = tar::Archive::new(&mut tar_in);
        for entry in archive.entries().map_err(read_err)? {
            let mut entry = entry.map_err(read_err)?;
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let link = entry.link_name_bytes().map(|l| l.into_owned());
            let step = plan_entry(
                &entry.path_bytes(),
                kind(entry.header().entry_type()),
                link.as_deref(),
            )
            .map_err(|m| bad(&name, m))?;
            do_step(root, &step, &mut entry, &mut made).map_err(|e| bad(&name, e.to_string()))?;
        }
    }
    let (hex, _) = tar_in
        .finish()
        .map_err(Problem::io("reading layer", &layer.path))?;
    Ok(hex)
}

fn split(path: &Path) -> (&Path, &OsStr) {
    (
        path.parent().unwrap_or(Path::new("")),
        path.file_name().unwrap_or_default(),
    )
}

fn missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR))
}

fn do_step<R: Read>(
    root: &Root,
    step: &Step,
    entry: &mut tar::Entry<R>,
    made: &mut Made,
) -> io::Result<()> {
    match step {
        Step::Skip(_) => Ok(()),
        Step::Whiteout(path) if made.kept(path) => Ok(()),
        Step::Whiteout(path) => {
            let (parent, name) = split(path);
            match root.open_dir(parent) {
                Ok(dir) => remove_at(&dir, name),
                Err(e) if missing(&e) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Step::Opaque(dir) => match root.open_dir(dir) {
            Ok(fd) => clear(root, &fd, dir, made),
            Err(e) if missing(&e) => Ok(()),
            Err(e) => Err(e),
        },
        Step::Create { path, kind, link } => {
            create(root, path, *kind, link.as_deref(), entry)?;
            made.mark(path);
            Ok(())
        }
    }
}

/// Removes everything under `rel` (open as `fd`) this layer did not make.
fn clear(root: &Root, fd: &OwnedFd, rel: &Path, made: &Made) -> io::Result<()> {
    for child in std::fs::read_dir(at(fd, OsStr::new("")))? {
        let name = child?.file_name();
        let path = rel.join(&name);
        if !made.kept(&path) {
            remove_at(fd, &name)?;
        } else if std::fs::symlink_metadata(at(fd, &name))?.is_dir() {
            clear(root, &root.open_dir(&path)?, &path, made)?;
        }
    }
    Ok(())
}

fn create<R: Read>(
    root: &Root,
    path: &Path,
    kind: EntryKind,
    link: Option<&Path>,
    entry: &mut tar::Entry<R>,
) -> io::Result<()> {
    let h = entry.header();
    let mode = h.mode()? & 0o7777;
    // A malformed id field is root's (tar writers leave no field empty).
    let owner = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
    let mtime = h.mtime().ok();
    if path.as_os_str().is_empty() {
        let dir = File::from(root.open_dir(path)?);
        return meta(&dir, mode, owner);
    }
    let (parent, name) = split(path);
    let dir = root.make_dirs(parent)?;
    let target = at(&dir, name);
    let existing = match std::fs::symlink_metadata(&target) {
        Ok(m) => Some(m.is_dir()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if existing.is_some() && !(kind == EntryKind::Dir && existing == Some(true)) {
        remove_at(&dir, name)?;
    }
    let nofollow = libc::O_NOFOLLOW;
    match kind {
        EntryKind::Dir => {
            if existing != Some(true) {
                std::fs::create_dir(&target)?;
            }
            let d = File::options()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | nofollow)
                .open(&target)?;
            meta(&d, mode, owner)
        }
        EntryKind::File => {
            let mut f = File::options()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(nofollow)
                .open(&target)?;
            io::copy(entry, &mut f)?;
            meta(&f, mode, owner)?;
            if let Some(t) = mtime {
                f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(t))?;
            }
            Ok(())
        }
        EntryKind::Symlink => {
            std::os::unix::fs::symlink(link.unwrap_or(Path::new("")), &target)?;
            chown_nofollow(&target, owner)
        }
        EntryKind::HardLink => {
            let (tparent, tname) = split(link.unwrap_or(Path::new("")));
            let tdir = root.open_dir(tparent)?;
            std::fs::hard_link(at(&tdir, tname), &target)
        }
        EntryKind::Fifo => {
            let c =
                std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(target.as_os_str()))?;
            // SAFETY: c is a valid path for the call's duration.
            if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
                return Err(io::Error::last_os_error());
            }
            chown_nofollow(&target, owner)?;
            // Just made by this thread in the staging folder: a FIFO.
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
        }
        // Planned away before.
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Other(_) => Ok(()),
    }
}

fn chown_nofollow(path: &Path, (uid, gid): (u32, u32)) -> io::Result<()> {
    if !is_root() {
        return Ok(());
    }
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// Owner (when root), then mode (chown clears setuid bits).
fn meta(f: &File, mode: u32, (uid, gid): (u32, u32)) -> io::Result<()> {
    if is_root() {
        std::os::unix::fs::fchown(f, Some(uid), Some(gid))?;
    }
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(test)]
pub(crate) mod tests;
