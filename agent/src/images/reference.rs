//! Image references as tasks name them (`busybox`, `busybox:1.36`,
//! `library/busybox:latest`, `repo@sha256:…`) and the registry folders
//! they may live in.

use super::digest::Digest;

/// The tag used when a reference names none.
pub const DEFAULT_TAG: &str = "latest";

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Slash-separated path components, each safe as a folder name.
    pub repository: String,
    /// The tag (`latest` when neither a tag nor a digest is given).
    pub tag: Option<String>,
    /// A manifest digest, when the reference pins one.
    pub digest: Option<Digest>,
}

fn component_ok(c: &str) -> bool {
    !c.is_empty()
        && c != "."
        && c != ".."
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn tag_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(['.', '-'])
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl Reference {
    /// Parses `name`; the error says what is wrong with it.
    pub fn parse(name: &str) -> Result<Reference, String> {
        let (rest, digest) = match name.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d)?)),
            None => (name, None),
        };
        let (repository, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (rest, None),
        };
        if let Some(t) = &tag
            && !tag_ok(t)
        {
            return Err(format!("tag {t:?} is not a valid tag"));
        }
        if repository.is_empty() {
            return Err("no repository name".into());
        }
        if let Some(bad) = repository.split('/').find(|c| !component_ok(c)) {
            return Err(format!(
                "repository component {bad:?} is not lowercase letters, digits, '.', '_' or '-'"
            ));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            _ => tag,
        };
        Ok(Reference {
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// Folders under the registry that may hold the layout, in the order
    /// tried: the repository as given, without a `docker.io/` host, and
    /// with or without Docker Hub's `library/`.
    pub fn candidates(&self) -> Vec<String> {
        let mut out = vec![self.repository.clone()];
        let bare = self
            .repository
            .strip_prefix("docker.io/")
            .or_else(|| self.repository.strip_prefix("index.docker.io/"))
            .unwrap_or(&self.repository);
        out.push(bare.to_string());
        match bare.strip_prefix("library/") {
            Some(short) => out.push(short.to_string()),
            None if !bare.contains('/') => out.push(format!("library/{bare}")),
            None => {}
        }
        let mut seen = Vec::new();
        out.retain(|c| {
            let fresh = !seen.contains(c);
            seen.push(c.clone());
            fresh
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_digests() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref()),
            ("busybox", Some("latest"))
        );
        let r = Reference::parse("library/busybox:1.36").unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.36"));
        assert_eq!(r.candidates(), ["library/busybox", "busybox"]);
        let hex = "0".repeat(64);
        let r = Reference::parse(&format!("busybox@sha256:{hex}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.unwrap().hex(), hex);
        let r = Reference::parse("docker.io/busybox:latest").unwrap();
        assert_eq!(
            r.candidates(),
            ["docker.io/busybox", "busybox", "library/busybox"]
        );
    }

    #[test]
    fn hostile_or_malformed_names_are_refused() {
        for bad in [
            "",
            "../etc",
            "a/../../b",
            "a//b",
            "/abs",
            "Busybox",
            "a:",
            "a:../x",
            "busybox@sha256:zz",
            "a/./b:latest",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
