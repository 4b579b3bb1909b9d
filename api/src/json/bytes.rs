//! `bytes` fields: base64 on the wire, standard alphabet, padded on output.
//!
//! Decoding follows stout's `base64::decode` (`stout/base64.hpp`): ASCII
//! whitespace is skipped, the first `=` ends the data (padding is optional and
//! not counted), any other character outside the alphabet is an error.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Text that is not base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid base64: {character:?} at offset {offset} is not in the standard alphabet")]
pub struct Base64Error {
    /// The offending character.
    pub character: char,
    /// Its byte offset in the text.
    pub offset: usize,
}

/// Encodes with the standard alphabet and `=` padding.
pub fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes leniently, as stout does (see the module doc).
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut count = 0usize;
    for (offset, c) in text.bytes().enumerate() {
        if c == b'=' {
            break;
        }
        // C's isspace: space, \t, \n, \v, \f, \r.
        if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            continue;
        }
        let Some(v) = sextet(c) else {
            let character = text[offset..]
                .chars()
                .next()
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(Base64Error { character, offset });
        };
        acc = (acc << 6) | v;
        count += 1;
        if count == 4 {
            out.extend_from_slice(&acc.to_be_bytes()[1..]);
            acc = 0;
            count = 0;
        }
    }
    // A partial group of n sextets carries n - 1 bytes (none for n = 1).
    if count > 1 {
        acc <<= 6 * (4 - count);
        out.extend_from_slice(&acc.to_be_bytes()[1..count]);
    }
    Ok(out)
}

/// The value of a `bytes` field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// Wraps raw bytes.
    pub fn new(data: impl Into<Vec<u8>>) -> Self {
        Bytes(data.into())
    }

    /// The raw bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The raw bytes, owned.
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }

    /// Number of raw bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The base64 text as printed on the wire.
    pub fn to_base64(&self) -> String {
        encode(&self.0)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Self {
        Bytes(v.to_vec())
    }
}

impl From<&str> for Bytes {
    fn from(v: &str) -> Self {
        Bytes(v.as_bytes().to_vec())
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(&self.0))
    }
}

struct BytesVisitor;

impl Visitor<'_> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        decode(v).map(Bytes).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(encode(plain.as_bytes()), coded);
            assert_eq!(decode(coded).unwrap(), plain.as_bytes(), "{coded}");
        }
        assert_eq!(encode(&[0xfb, 0xff]), "+/8=");
        assert_eq!(decode("+/8=").unwrap(), vec![0xfb, 0xff]);
    }

    #[test]
    fn decodes_like_stout() {
        // Padding optional, whitespace skipped, data ends at the first '='.
        assert_eq!(decode("Zm9vYg").unwrap(), b"foob");
        assert_eq!(decode("Zm9v\nYmFy ").unwrap(), b"foobar");
        assert_eq!(decode("Zg==Zm9v").unwrap(), b"f");
        // A lone trailing sextet carries no byte.
        assert_eq!(decode("Zm9vY").unwrap(), b"foo");
        let err = decode("Zm9v-").unwrap_err();
        assert_eq!(
            err,
            Base64Error {
                character: '-',
                offset: 4
            }
        );
        assert_eq!(
            err.to_string(),
            "invalid base64: '-' at offset 4 is not in the standard alphabet"
        );
        assert!(decode("Zm9vé").is_err());
    }

    #[test]
    fn all_byte_values_round_trip() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&data)).unwrap(), data);
    }

    #[test]
    fn serde_uses_base64_strings() {
        let b = Bytes::from("hello");
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"aGVsbG8=\"");
        let back: Bytes = serde_json::from_str("\"aGVsbG8=\"").unwrap();
        assert_eq!(back.as_slice(), b"hello");
        assert!(serde_json::from_str::<Bytes>("\"a*b\"").is_err());
        assert!(serde_json::from_str::<Bytes>("12").is_err());
    }
}
