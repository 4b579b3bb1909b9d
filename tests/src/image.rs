//! OCI image layouts built at test time (`DIR/<repository>/` with
//! `oci-layout`, `index.json`, `blobs/sha256/…`), for the agent's
//! `--docker-registry`: layers from in-memory tar entries (gzip or plain),
//! a config with runtime defaults, one manifest per tag. [`busybox`] makes
//! the test image: the host's static `/bin/busybox` and its applet links,
//! an /etc with a marker, and a second layer with a whiteout.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One entry of a layer.
#[derive(Debug, Clone)]
pub enum Entry {
    Dir(&'static str),
    File(String, Vec<u8>, u32),
    Symlink(String, String),
    /// A whiteout of this path (`dir/.wh.name`).
    Whiteout(&'static str),
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A tar stream of `entries`.
pub fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        match e {
            Entry::Dir(p) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::File(p, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, &data[..]).unwrap();
            }
            Entry::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
            Entry::Whiteout(p) => {
                let path = Path::new(p);
                let name = format!(".wh.{}", path.file_name().unwrap().to_str().unwrap());
                let wh = path.parent().unwrap().join(name);
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_data(&mut h, wh, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A layer: its entries and whether it is gzipped.
#[derive(Debug, Clone)]
pub struct Layer {
    pub entries: Vec<Entry>,
    pub gzip: bool,
}

/// A layout being written at `dir`.
#[derive(Debug)]
pub struct Layout {
    dir: PathBuf,
    manifests: Vec<Value>,
}

impl Layout {
    /// An empty layout at `dir` (made).
    pub fn new(dir: &Path) -> Layout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout {
            dir: dir.to_path_buf(),
            manifests: Vec::new(),
        }
    }

    /// Writes a blob; its descriptor.
    pub fn blob(&self, media: &str, bytes: &[u8]) -> Value {
        let h = hex(bytes);
        std::fs::write(self.dir.join("blobs/sha256").join(&h), bytes).unwrap();
        json!({"mediaType": media, "digest": format!("sha256:{h}"), "size": bytes.len()})
    }

    /// The path of the blob a descriptor names.
    pub fn blob_path(&self, desc: &Value) -> PathBuf {
        let d = desc["digest"].as_str().unwrap();
        self.dir
            .join("blobs/sha256")
            .join(d.strip_prefix("sha256:").unwrap())
    }

    /// Adds an image tagged `tag` with `layers` and runtime `config`; the
    /// descriptors of its layers. Writes index.json.
    pub fn image(&mut self, tag: &str, layers: &[Layer], config: Value) -> Vec<Value> {
        let mut descs = Vec::new();
        let mut diff_ids = Vec::new();
        for l in layers {
            let tar = tar_of(&l.entries);
            diff_ids.push(format!("sha256:{}", hex(&tar)));
            descs.push(if l.gzip {
                self.blob("application/vnd.oci.image.layer.v1.tar+gzip", &gzip(&tar))
            } else {
                self.blob("application/vnd.oci.image.layer.v1.tar", &tar)
            });
        }
        let cfg = json!({"architecture": "amd64", "os": "linux", "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids}});
        let cfg = self.blob(
            "application/vnd.oci.image.config.v1+json",
            cfg.to_string().as_bytes(),
        );
        let manifest = json!({"schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": cfg, "layers": descs});
        let mut m = self.blob(
            "application/vnd.oci.image.manifest.v1+json",
            manifest.to_string().as_bytes(),
        );
        m["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        self.manifests.push(m);
        let index = json!({"schemaVersion": 2, "manifests": self.manifests});
        std::fs::write(self.dir.join("index.json"), index.to_string()).unwrap();
        descs
    }
}

/// Text of /etc/image-marker in the test image.
pub const MARKER: &str = "corral test image";

/// The busybox image's two layers: (1, gzip) the host's static busybox
/// with its applet links under /bin, /etc/passwd and /etc/group (root,
/// nobody), /etc/image-marker, /etc/doomed; (2, plain tar) a whiteout of
/// /etc/doomed and /etc/layer2.
pub fn busybox_layers() -> Vec<Layer> {
    let bb = std::fs::read("/bin/busybox")
        .expect("/bin/busybox (busybox-static) on the host: tests/vm/setup installs it");
    let mut first = vec![
        Entry::Dir("bin"),
        Entry::Dir("etc"),
        Entry::File("bin/busybox".into(), bb, 0o755),
    ];
    for applet in [
        "sh", "cat", "echo", "ls", "id", "pwd", "test", "touch", "env", "sleep", "mount", "grep",
    ] {
        first.push(Entry::Symlink(format!("bin/{applet}"), "busybox".into()));
    }
    first.extend([
        Entry::File(
            "etc/passwd".into(),
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n".to_vec(),
            0o644,
        ),
        Entry::File(
            "etc/group".into(),
            b"root:x:0:\nnogroup:x:65534:\n".to_vec(),
            0o644,
        ),
        Entry::File("etc/image-marker".into(), MARKER.as_bytes().to_vec(), 0o644),
        Entry::File("etc/doomed".into(), b"deleted by layer 2".to_vec(), 0o644),
    ]);
    let second = vec![
        Entry::Whiteout("etc/doomed"),
        Entry::File("etc/layer2".into(), b"second layer".to_vec(), 0o644),
    ];
    vec![
        Layer {
            entries: first,
            gzip: true,
        },
        Layer {
            entries: second,
            gzip: false,
        },
    ]
}

/// A registry at `dir` with repository `busybox`: tag `latest` (Env
/// PATH=/bin, IMAGE_VAR, OVERRIDE; Cmd /bin/sh) and tag `entry`
/// (Entrypoint `/bin/sh -c`, Cmd printing `cmd-ran`, the cwd and uid,
/// WorkingDir /srv/app, User nobody).
pub fn busybox(dir: &Path) -> Layout {
    let mut l = Layout::new(&dir.join("busybox"));
    let layers = busybox_layers();
    l.image(
        "latest",
        &layers,
        json!({"Env": ["PATH=/bin", "IMAGE_VAR=from-image", "OVERRIDE=image"],
               "Cmd": ["/bin/sh"]}),
    );
    l.image(
        "entry",
        &layers,
        json!({"Env": ["PATH=/bin"], "Entrypoint": ["/bin/sh", "-c"],
               "Cmd": ["echo cmd-ran; echo cwd=$(pwd); echo uid=$(id -u)"],
               "WorkingDir": "/srv/app", "User": "nobody"}),
    );
    l
}
