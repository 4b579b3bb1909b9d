//! Content digests (`sha256:<64 hex>`, the only algorithm accepted) and a
//! reader that hashes and counts what passes through it.

use sha2::{Digest as _, Sha256};
use std::io::Read;

/// A validated sha256 digest: its hex is safe as a file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex>`; anything else is refused with a
    /// message.
    pub fn parse(text: &str) -> Result<Digest, String> {
        let (algo, hex) = text
            .split_once(':')
            .ok_or_else(|| format!("digest {text:?} has no algorithm"))?;
        if algo != "sha256" {
            return Err(format!(
                "digest {text:?}: only sha256 digests are supported"
            ));
        }
        let ok = hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(format!(
                "digest {text:?} is not 64 lowercase hex characters"
            ));
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

/// Hashes (sha256) and counts the bytes read through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Hashing<R> {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Reads what is left, then the hex digest and size of everything read.
    pub fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((hex(&self.hasher.finalize()), self.count))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sha256 hex of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Checks a blob read in full against its descriptor: `Err` says how it
/// differs.
pub fn check(
    expected: &Digest,
    size: u64,
    actual_hex: &str,
    actual_size: u64,
) -> Result<(), String> {
    if actual_size != size {
        return Err(format!(
            "{actual_size} bytes where its descriptor says {size}"
        ));
    }
    if actual_hex != expected.hex() {
        return Err(format!("its content hashes to sha256:{actual_hex}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_sha256_digests_parse() {
        let d = Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        assert_eq!(d.hex().len(), 64);
        assert_eq!(d.to_string(), format!("sha256:{}", "ab".repeat(32)));
        for bad in [
            "sha256:../../../etc/passwd",
            "sha512:00",
            "abc",
            &format!("sha256:{}", "AB".repeat(32)),
            &format!("sha256:{}", "a".repeat(63)),
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashing_reads_everything_and_checks() {
        let data = b"hello world";
        let mut h = Hashing::new(&data[..]);
        let mut first = [0u8; 5];
        h.read_exact(&mut first).unwrap();
        let (hex, n) = h.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(hex, sha256_hex(data));
        let d = Digest::parse(&format!("sha256:{hex}")).unwrap();
        assert!(check(&d, 11, &hex, 11).is_ok());
        assert!(check(&d, 12, &hex, 11).unwrap_err().contains("12"));
        assert!(check(&d, 11, &sha256_hex(b"x"), 11).is_err());
    }
}
