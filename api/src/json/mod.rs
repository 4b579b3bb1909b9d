//! Mesos' JSON rules — the JSON ↔ protobuf mapping that stout implements in
//! `3rdparty/stout/include/stout/protobuf.hpp` (parsing) and `jsonify.hpp`
//! (printing) — as serde helpers, plus the entry points that decode wire
//! messages with errors naming the offending field.
//!
//! The rules (see `docs/api.md` for where each one comes from):
//! - keys are the proto field names; unknown keys are ignored; `null` means
//!   "not set" for any field;
//! - optional fields without a proto default are omitted when unset; fields
//!   with a proto default (`shell`, `refuse_seconds`, …) are always printed;
//!   empty repeated and map fields are omitted;
//! - enums are their value names; an unknown name leaves an optional field
//!   unset, is dropped from a repeated field and is an error for a required
//!   field; numbers are rejected ([`enums`]);
//! - integers, doubles and bools also accept strings holding them
//!   (`"5"`, `"Infinity"`, `"true"`) ([`lenient`]);
//! - bytes are standard, padded base64 ([`bytes`]).

pub mod bytes;
pub mod defaults;
pub mod enums;
pub mod lenient;

pub use bytes::{Base64Error, Bytes};
pub use enums::{ProtoEnum, UnknownEnumName};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// A wire message that could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The input is not JSON, or a field does not follow Mesos' JSON rules.
    /// `path` is the dotted path of the field (`subscribe.framework_info.user`),
    /// `<root>` for the top-level object.
    #[error("invalid JSON at '{path}': {message}")]
    Invalid {
        /// Dotted path of the offending field.
        path: String,
        /// What was wrong with it.
        message: String,
    },
    /// The value could not be printed (never happens for this crate's types).
    #[error("failed to encode JSON: {0}")]
    Encode(String),
}

/// Decodes a wire message from JSON bytes. The top level must be a JSON
/// object, as stout requires ("Expecting a JSON object").
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(JsonError::Invalid {
            path: ROOT.to_owned(),
            message: "expected a JSON object".to_owned(),
        });
    }
    // The fast path: a plain parse. Only a message that fails parses again
    // with the path tracked (a third of the decoding time otherwise), so
    // the error still names the field.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = T::deserialize(&mut de)
        && de.end().is_ok()
    {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end().map_err(|e| JsonError::Invalid {
        path: ROOT.to_owned(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Decodes a wire message from a JSON string (a JSON object).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    from_slice(text.as_bytes())
}

/// Decodes a wire message from an already parsed JSON value.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, JsonError> {
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// Encodes a wire message as compact JSON bytes.
pub fn to_vec<T: Serialize>(value: &T) -> Result<Vec<u8>, JsonError> {
    serde_json::to_vec(value).map_err(|e| JsonError::Encode(e.to_string()))
}

/// Encodes a wire message as a compact JSON string.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, JsonError> {
    serde_json::to_string(value).map_err(|e| JsonError::Encode(e.to_string()))
}

/// Encodes a wire message as a JSON value.
pub fn to_value<T: Serialize>(value: &T) -> Result<serde_json::Value, JsonError> {
    serde_json::to_value(value).map_err(|e| JsonError::Encode(e.to_string()))
}

/// `deserialize_with` for repeated and map fields: `null` is an empty
/// collection, as stout treats `null` as "not set".
pub fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

const ROOT: &str = "<root>";

fn path_error(err: serde_path_to_error::Error<serde_json::Error>) -> JsonError {
    let path = err.path().to_string();
    let path = if path == "." { ROOT.to_owned() } else { path };
    JsonError::Invalid {
        path,
        message: err.into_inner().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TaskId;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Outer {
        #[serde(default, deserialize_with = "nullable")]
        items: Vec<TaskId>,
        inner: Inner,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        #[serde(deserialize_with = "lenient::required")]
        count: u32,
    }

    #[test]
    fn null_repeated_field_is_empty() {
        let outer: Outer = from_str(r#"{"items": null, "inner": {"count": 1}}"#).unwrap();
        assert!(outer.items.is_empty());
        assert_eq!(outer.inner.count, 1);
    }

    #[test]
    fn errors_name_the_field_path() {
        let err = from_str::<Outer>(r#"{"inner": {"count": "many"}}"#).unwrap_err();
        let JsonError::Invalid { path, message } = &err else {
            panic!("unexpected error {err:?}");
        };
        assert_eq!(path, "inner.count");
        assert!(message.contains("many"), "{message}");
        let err =
            from_str::<Outer>(r#"{"items": [{"value": 3}], "inner": {"count": 1}}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid JSON at 'items[0].value'"),
            "{err}"
        );
    }

    #[test]
    fn missing_required_field_is_an_error() {
        let err = from_str::<Outer>(r#"{"items": []}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JSON at '<root>': missing field `inner` at line 1 column 13"
        );
    }

    #[test]
    fn top_level_must_be_an_object() {
        for text in ["[]", "[{\"count\": 1}]", "1", "", "null"] {
            let err = from_str::<Inner>(text).unwrap_err();
            assert_eq!(
                err.to_string(),
                "invalid JSON at '<root>': expected a JSON object"
            );
        }
        assert_eq!(
            from_str::<Inner>(" \n{\"count\": 2}").unwrap(),
            Inner { count: 2 }
        );
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        assert!(from_str::<Inner>(r#"{"count": 1} x"#).is_err());
    }
}
