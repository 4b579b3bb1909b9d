use super::*;
use crate::images::digest::{Digest, sha256_hex};
use std::io::Write;
use std::path::PathBuf;

/// One tar entry: path bytes (written raw, so hostile names pass), type,
/// link name, data.
pub struct E<'a>(pub &'a [u8], pub tar::EntryType, pub &'a [u8], pub &'a [u8]);

/// A tar stream of `entries`.
pub fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for E(path, t, link, data) in entries {
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..path.len()].copy_from_slice(path);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_entry_type(*t);
        h.set_mode(if *t == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_size(data.len() as u64);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("corral-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn layer(dir: &Path, n: usize, tar: &[u8], gz: bool) -> Layer {
    let blob = if gz { gzip(tar) } else { tar.to_vec() };
    let path = dir.join(format!("layer{n}"));
    std::fs::write(&path, &blob).unwrap();
    Layer {
        digest: Digest::parse(&format!("sha256:{}", sha256_hex(&blob))).unwrap(),
        size: blob.len() as u64,
        compression: if gz {
            Compression::Gzip
        } else {
            Compression::None
        },
        diff_id: Some(Digest::parse(&format!("sha256:{}", sha256_hex(tar))).unwrap()),
        path,
    }
}

use tar::EntryType as T;

#[test]
fn layers_apply_in_order_with_whiteouts_and_opaque_folders() {
    let s = Scratch::new("unpack-order");
    let root = s.0.join("root");
    std::fs::create_dir(&root).unwrap();
    let l1 = tar_of(&[
        E(b"./", T::Directory, b"", b""),
        E(b"bin/", T::Directory, b"", b""),
        E(b"bin/busybox", T::Regular, b"", b"BB"),
        E(b"bin/sh", T::Link, b"bin/busybox", b""),
        E(b"bin/ls", T::Symlink, b"busybox", b""),
        E(b"etc/motd", T::Regular, b"", b"hello"),
        E(b"etc/keep", T::Regular, b"", b"k"),
        E(b"var/cache/old", T::Regular, b"", b"o"),
        E(b"dev/sda", T::Block, b"", b""),
    ]);
    let l2 = tar_of(&[
        E(b"etc/.wh.motd", T::Regular, b"", b""),
        E(b"var/cache/new", T::Regular, b"", b"n"),
        E(b"var/cache/.wh..wh..opq", T::Regular, b"", b""),
        E(b"etc/keep", T::Regular, b"", b"k2"),
    ]);
    apply(&root, &layer(&s.0, 1, &l1, true)).unwrap();
    apply(&root, &layer(&s.0, 2, &l2, false)).unwrap();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).ok();
    assert_eq!(read("bin/busybox").as_deref(), Some("BB"));
    assert_eq!(read("bin/sh").as_deref(), Some("BB"));
    assert_eq!(
        std::fs::read_link(root.join("bin/ls")).unwrap(),
        PathBuf::from("busybox")
    );
    assert_eq!(read("etc/motd"), None, "the whiteout removed it");
    assert_eq!(read("etc/keep").as_deref(), Some("k2"));
    assert_eq!(read("var/cache/old"), None, "the opaque folder hid it");
    assert_eq!(
        read("var/cache/new").as_deref(),
        Some("n"),
        "made by the same layer"
    );
    assert!(!root.join("dev/sda").exists(), "device nodes are skipped");
}

#[test]
fn hostile_entries_stay_inside_the_root_or_are_refused() {
    let s = Scratch::new("unpack-hostile");
    let (root, outside) = (s.0.join("root"), s.0.join("outside"));
    std::fs::create_dir(&root).unwrap();
    std::fs::create_dir(&outside).unwrap();
    let out = outside.to_str().unwrap().as_bytes();
    // A symlink to a host folder, then a file through it; a relative
    // symlink climbing out, then a file through it; a whiteout through it.
    // Through a symlink whose target is missing inside the root: refused.
    let l = tar_of(&[
        E(b"dangling", T::Symlink, out, b""),
        E(b"dangling/pwned", T::Regular, b"", b"x"),
    ]);
    let e = apply(&root, &layer(&s.0, 1, &l, true)).unwrap_err();
    assert!(e.to_string().contains("dangling/pwned"), "{e}");
    let inside = outside.strip_prefix("/").unwrap();
    let l = tar_of(&[
        E(inside.to_str().unwrap().as_bytes(), T::Directory, b"", b""),
        E(b"abs", T::Symlink, out, b""),
        E(b"abs/pwned", T::Regular, b"", b"x"),
        E(b"up", T::Symlink, b"../../../../../../..", b""),
        E(b"up/tmp/pwned2", T::Regular, b"", b"x"),
    ]);
    apply(&root, &layer(&s.0, 2, &l, true)).unwrap();
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(root.join(inside).join("pwned").exists());
    assert!(root.join("tmp/pwned2").exists());
    std::fs::write(outside.join("victim"), b"v").unwrap();
    let l = tar_of(&[E(b"abs/.wh.victim", T::Regular, b"", b"")]);
    std::fs::write(root.join(inside).join("victim"), b"v").unwrap();
    apply(&root, &layer(&s.0, 3, &l, false)).unwrap();
    assert!(
        outside.join("victim").exists(),
        "a whiteout through a symlink stays inside"
    );
    assert!(!root.join(inside).join("victim").exists());
    for (n, bad) in [
        E(b"../escape", T::Regular, b"", b"x"),
        E(b"a/../../escape", T::Regular, b"", b"x"),
        E(b"h", T::Link, b"../../../etc/passwd", b""),
    ]
    .into_iter()
    .enumerate()
    {
        let e = apply(&root, &layer(&s.0, 10 + n, &tar_of(&[bad]), false)).unwrap_err();
        assert!(matches!(e, Problem::Layer { .. }), "{e}");
        assert!(e.to_string().contains(".."), "{e}");
    }
    assert!(!s.0.join("escape").exists());
}

#[test]
fn a_layer_that_does_not_match_its_digest_is_refused() {
    let s = Scratch::new("unpack-digest");
    let root = s.0.join("root");
    std::fs::create_dir(&root).unwrap();
    let mut l = layer(&s.0, 1, &tar_of(&[E(b"f", T::Regular, b"", b"x")]), true);
    l.digest = Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
    let e = apply(&root, &l).unwrap_err().to_string();
    assert!(e.contains("does not match its digest"), "{e}");
    let mut l = layer(&s.0, 2, &tar_of(&[E(b"f", T::Regular, b"", b"x")]), true);
    l.diff_id = Some(Digest::parse(&format!("sha256:{}", "1".repeat(64))).unwrap());
    let e = apply(&root, &l).unwrap_err().to_string();
    assert!(e.contains("diff_id"), "{e}");
    // Bytes flipped in the gzip stream: the digest is what is reported.
    let l = layer(&s.0, 3, &tar_of(&[E(b"f", T::Regular, b"", b"x")]), true);
    let mut bytes = std::fs::read(&l.path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&l.path, bytes).unwrap();
    let e = apply(&root, &l).unwrap_err().to_string();
    assert!(e.contains("does not match its digest"), "{e}");
}

#[test]
fn a_zstd_layer_applies_and_its_diff_id_is_checked_on_the_decoded_tar() {
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};
    let s = Scratch::new("unpack-zstd");
    let root = s.0.join("root");
    std::fs::create_dir(&root).unwrap();
    let tar = tar_of(&[
        E(b"etc/", T::Directory, b"", b""),
        E(b"etc/motd", T::Regular, b"", b"zstd layer"),
    ]);
    let blob = compress_to_vec(&tar[..], CompressionLevel::Fastest);
    let path = s.0.join("layer-zstd");
    std::fs::write(&path, &blob).unwrap();
    let mut l = Layer {
        digest: Digest::parse(&format!("sha256:{}", sha256_hex(&blob))).unwrap(),
        size: blob.len() as u64,
        compression: Compression::Zstd,
        diff_id: Some(Digest::parse(&format!("sha256:{}", sha256_hex(&tar))).unwrap()),
        path,
    };
    apply(&root, &l).unwrap();
    let motd = std::fs::read_to_string(root.join("etc/motd")).unwrap();
    assert_eq!(motd, "zstd layer");
    l.diff_id = Some(Digest::parse(&format!("sha256:{}", sha256_hex(b"other"))).unwrap());
    let e = apply(&root, &l).unwrap_err();
    assert!(e.to_string().contains("diff_id"), "{e}");
}
