//! Reading one OCI image layout: `oci-layout`, `index.json`, the manifest
//! a reference selects (by the `org.opencontainers.image.ref.name`
//! annotation or by digest, through nested indexes to this platform), the
//! config blob, and the layers to apply. Every blob read here is checked
//! against its digest and size; layers are checked while they are
//! unpacked.

use super::Problem;
use super::config::{ImageConfig, host_architecture};
use super::digest::{self, Digest};
use super::reference::Reference;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The annotation that names a manifest's tag in an index.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Largest JSON blob (index, manifest, config) read into memory.
const MAX_JSON: u64 = 4 << 20;

/// Nested indexes followed at most.
const MAX_DEPTH: usize = 4;

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// An OCI content descriptor.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub annotations: HashMap<String, String>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

/// A descriptor's platform.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
}

/// An image index (`index.json` or a nested one).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Index {
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Clone, Deserialize)]
struct Manifest {
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(Debug, Deserialize)]
struct OciLayoutFile {
    #[serde(rename = "imageLayoutVersion")]
    version: String,
}

/// How a layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// A layer to apply.
#[derive(Debug, Clone)]
pub struct Layer {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
    /// Its uncompressed digest from the config, when the config has one.
    pub diff_id: Option<Digest>,
    pub path: PathBuf,
}

/// A resolved image.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub manifest: Digest,
    pub config: ImageConfig,
    pub layers: Vec<Layer>,
}

/// Whether an index entry's annotation names `tag` (just the tag, as
/// skopeo writes it, or a whole reference ending in `:tag`).
fn names_tag(d: &Descriptor, tag: &str) -> bool {
    d.annotations.get(REF_NAME).is_some_and(|n| {
        n == tag
            || n.rsplit_once(':')
                .is_some_and(|(repo, t)| t == tag && !t.contains('/') && !repo.is_empty())
    })
}

/// The entry of `index` the reference selects: by digest if it pins one,
/// else by tag.
pub fn choose_manifest<'a>(index: &'a Index, r: &Reference) -> Result<&'a Descriptor, String> {
    if let Some(d) = &r.digest {
        let want = d.to_string();
        return index
            .manifests
            .iter()
            .find(|m| m.digest == want)
            .ok_or_else(|| format!("no manifest {want} in index.json"));
    }
    let tag = r.tag.as_deref().unwrap_or(super::reference::DEFAULT_TAG);
    let mut tagged = index.manifests.iter().filter(|m| names_tag(m, tag));
    match (tagged.next(), tagged.next()) {
        (Some(m), None) => Ok(m),
        (Some(_), Some(_)) => Err(format!(
            "several manifests are tagged {tag:?} in index.json"
        )),
        (None, _) => {
            let tags: Vec<&str> = index
                .manifests
                .iter()
                .filter_map(|m| m.annotations.get(REF_NAME).map(String::as_str))
                .collect();
            Err(format!(
                "no manifest tagged {tag:?} in index.json (tags there: {})",
                if tags.is_empty() {
                    "none".to_string()
                } else {
                    tags.join(", ")
                }
            ))
        }
    }
}

/// The entry of a (multi-platform) index for linux on `arch`.
pub fn choose_platform<'a>(index: &'a Index, arch: &str) -> Result<&'a Descriptor, String> {
    index
        .manifests
        .iter()
        .find(|m| {
            m.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == arch)
        })
        .or_else(|| match index.manifests.as_slice() {
            [only] if only.platform.is_none() => Some(only),
            _ => None,
        })
        .ok_or_else(|| format!("no manifest for linux/{arch} in the image index"))
}

/// An opened layout folder.
#[derive(Debug)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// Finds the layout of `r` under `registry` and checks its
    /// `oci-layout` file.
    pub fn open(registry: &Path, r: &Reference) -> Result<Layout, Problem> {
        let tried: Vec<PathBuf> = r.candidates().iter().map(|c| registry.join(c)).collect();
        let dir = tried
            .iter()
            .find(|d| d.join("index.json").is_file() || d.join("oci-layout").is_file())
            .ok_or_else(|| Problem::NotFound(tried.clone()))?
            .clone();
        let marker = dir.join("oci-layout");
        let text = std::fs::read(&marker).map_err(Problem::io("reading", &marker))?;
        let f: OciLayoutFile = serde_json::from_slice(&text)
            .map_err(|e| Problem::layout(&marker, format!("not an oci-layout file: {e}")))?;
        if !f.version.starts_with("1.") {
            return Err(Problem::layout(
                &marker,
                format!("imageLayoutVersion {:?} is not supported", f.version),
            ));
        }
        Ok(Layout { dir })
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(d.hex())
    }

    fn digest_of(&self, d: &Descriptor) -> Result<Digest, Problem> {
        Digest::parse(&d.digest).map_err(|m| Problem::layout(&self.dir, m))
    }

    /// A JSON blob, checked against its descriptor.
    fn json_blob<T: serde::de::DeserializeOwned>(&self, d: &Descriptor) -> Result<T, Problem> {
        let digest = self.digest_of(d)?;
        if d.size > MAX_JSON {
            return Err(Problem::layout(
                &self.dir,
                format!(
                    "blob {digest} is {} bytes, more than a JSON blob may be",
                    d.size
                ),
            ));
        }
        let path = self.blob_path(&digest);
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_JSON + 1).read_to_end(&mut bytes))
            .map_err(Problem::io("reading blob", &path))?;
        digest::check(
            &digest,
            d.size,
            &digest::sha256_hex(&bytes),
            bytes.len() as u64,
        )
        .map_err(|message| Problem::DigestMismatch {
            blob: path.display().to_string(),
            message,
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Problem::layout(&path, format!("not the JSON expected: {e}")))
    }

    /// Resolves `r` to its manifest, config and layers.
    pub fn resolve(&self, r: &Reference) -> Result<Resolved, Problem> {
        let index_path = self.dir.join("index.json");
        let text = std::fs::read(&index_path).map_err(Problem::io("reading", &index_path))?;
        let index: Index = serde_json::from_slice(&text)
            .map_err(|e| Problem::layout(&index_path, format!("not an image index: {e}")))?;
        let mut desc = choose_manifest(&index, r)
            .map_err(|m| Problem::layout(&index_path, m))?
            .clone();
        for _ in 0..MAX_DEPTH {
            if !INDEX_TYPES.contains(&desc.media_type.as_str()) {
                break;
            }
            let nested: Index = self.json_blob(&desc)?;
            desc = choose_platform(&nested, host_architecture())
                .map_err(|m| Problem::layout(&self.dir, m))?
                .clone();
        }
        let manifest_digest = self.digest_of(&desc)?;
        let manifest: Manifest = self.json_blob(&desc)?;
        let config: ImageConfig = self.json_blob(&manifest.config)?;
        config
            .check_platform()
            .map_err(|m| Problem::Unsupported(format!("the image cannot run here: {m}")))?;
        let diff_ids = config.diff_ids();
        let layers = manifest
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let digest = self.digest_of(l)?;
                Ok(Layer {
                    compression: compression(&l.media_type).ok_or_else(|| {
                        Problem::Unsupported(format!(
                            "layer {digest} has media type {:?} (supported: tar, tar+gzip, tar+zstd)",
                            l.media_type
                        ))
                    })?,
                    size: l.size,
                    diff_id: match diff_ids.get(i) {
                        Some(d) if diff_ids.len() == manifest.layers.len() => {
                            Some(Digest::parse(d).map_err(|m| Problem::layout(&self.dir, m))?)
                        }
                        _ => None,
                    },
                    path: self.blob_path(&digest),
                    digest,
                })
            })
            .collect::<Result<Vec<_>, Problem>>()?;
        Ok(Resolved {
            manifest: manifest_digest,
            config,
            layers,
        })
    }
}

/// A layer media type's compression; `None` for what is not supported.
pub fn compression(media_type: &str) -> Option<Compression> {
    let t = media_type
        .strip_prefix("application/vnd.oci.image.layer.nondistributable.v1.")
        .or_else(|| media_type.strip_prefix("application/vnd.oci.image.layer.v1."));
    match (t, media_type) {
        (Some("tar"), _) => Some(Compression::None),
        (Some("tar+gzip"), _) => Some(Compression::Gzip),
        (Some("tar+zstd"), _) => Some(Compression::Zstd),
        (_, "application/vnd.docker.image.rootfs.diff.tar.gzip") => Some(Compression::Gzip),
        (_, "application/vnd.docker.image.rootfs.diff.tar") => Some(Compression::None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(digest: &str, name: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: digest.into(),
            size: 1,
            annotations: name
                .map(|n| HashMap::from([(REF_NAME.to_string(), n.to_string())]))
                .unwrap_or_default(),
            platform: None,
        }
    }

    #[test]
    fn tags_choose_by_annotation_default_latest() {
        let text = r#"{"schemaVersion":2,"manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":1,
             "annotations":{"org.opencontainers.image.ref.name":"1.36"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":1,
             "annotations":{"org.opencontainers.image.ref.name":"docker.io/library/busybox:latest"}}]}"#;
        let index: Index = serde_json::from_str(text).unwrap();
        let pick = |n: &str| choose_manifest(&index, &Reference::parse(n).unwrap());
        assert_eq!(pick("busybox").unwrap().digest, "sha256:b");
        assert_eq!(pick("busybox:1.36").unwrap().digest, "sha256:a");
        let e = pick("busybox:2").unwrap_err();
        assert!(e.contains("\"2\"") && e.contains("1.36"), "{e}");
    }

    #[test]
    fn digests_and_duplicates() {
        let hex = "c".repeat(64);
        let index = Index {
            manifests: vec![
                desc(&format!("sha256:{hex}"), None),
                desc("sha256:x", Some("latest")),
                desc("sha256:y", Some("latest")),
            ],
        };
        let r = Reference::parse(&format!("busybox@sha256:{hex}")).unwrap();
        assert_eq!(
            choose_manifest(&index, &r).unwrap().digest,
            format!("sha256:{hex}")
        );
        let e = choose_manifest(&index, &Reference::parse("busybox").unwrap()).unwrap_err();
        assert!(e.contains("several"), "{e}");
    }

    #[test]
    fn platforms_and_media_types() {
        let text = r#"{"manifests":[
            {"digest":"sha256:arm","size":1,"platform":{"architecture":"arm64","os":"linux"}},
            {"digest":"sha256:x86","size":1,"platform":{"architecture":"amd64","os":"linux"}}]}"#;
        let index: Index = serde_json::from_str(text).unwrap();
        assert_eq!(
            choose_platform(&index, "amd64").unwrap().digest,
            "sha256:x86"
        );
        assert!(choose_platform(&index, "riscv64").is_err());
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+gzip"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar"),
            Some(Compression::None)
        );
        assert_eq!(
            compression("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(Compression::Zstd)
        );
        assert_eq!(
            compression("application/vnd.oci.image.layer.v1.tar+bzip2"),
            None
        );
    }
}
