//! Lenient scalars, as stout parses them (`protobuf.hpp`, `Parser`):
//! integer and double fields take a JSON number or a string holding one
//! (`"5"`, `"2.5e3"`); doubles also take `"Infinity"` and `"-Infinity"`;
//! bool fields take `true`/`false` or the strings `"true"`/`"false"`.
//!
//! A fractional number given for an integer field is truncated toward zero,
//! as stout's `static_cast` does. Where stout's cast would be undefined or
//! wrap (out of range, negative for an unsigned field, NaN) this module
//! answers an error instead.
//!
//! Doubles are printed as JSON numbers; the infinities, which JSON cannot
//! hold, as the strings `"Infinity"`/`"-Infinity"` that stout reads back, and
//! NaN as `null` ("not set").

use std::fmt;
use std::marker::PhantomData;

use serde::Serializer;
use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A scalar as it appeared on the wire, before conversion to the field type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Raw<'a> {
    /// A negative JSON integer.
    Int(i64),
    /// A non-negative JSON integer.
    Uint(u64),
    /// A JSON number with a fraction or an exponent.
    Float(f64),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON string.
    Text(&'a str),
}

/// A scalar field type with Mesos' lenient conversions.
pub trait Scalar: Sized {
    /// What the field holds, for error messages ("a 32-bit unsigned integer").
    const EXPECTING: &'static str;

    /// Converts a wire value; the error says what was wrong with it.
    fn from_raw(raw: Raw<'_>) -> Result<Self, String>;
}

/// Parses a string holding a JSON number into a [`Raw`] number.
fn number_in_text(text: &str) -> Result<Raw<'static>, String> {
    let number: serde_json::Number =
        serde_json::from_str(text).map_err(|_| format!("'{text}' is not a number"))?;
    if let Some(n) = number.as_u64() {
        Ok(Raw::Uint(n))
    } else if let Some(n) = number.as_i64() {
        Ok(Raw::Int(n))
    } else {
        number
            .as_f64()
            .map(Raw::Float)
            .ok_or_else(|| format!("'{text}' is not a number"))
    }
}

macro_rules! integer {
    ($ty:ty, $expecting:literal) => {
        impl Scalar for $ty {
            const EXPECTING: &'static str = $expecting;

            fn from_raw(raw: Raw<'_>) -> Result<Self, String> {
                let out_of_range =
                    |shown: String| format!("{shown} is out of range for {}", $expecting);
                match raw {
                    Raw::Int(n) => <$ty>::try_from(n).map_err(|_| out_of_range(n.to_string())),
                    Raw::Uint(n) => <$ty>::try_from(n).map_err(|_| out_of_range(n.to_string())),
                    Raw::Float(f) => {
                        let t = f.trunc();
                        // `MAX as f64` rounds up for 64-bit types, hence `<`.
                        if t.is_finite() && t >= <$ty>::MIN as f64 && t < (<$ty>::MAX as f64) + 1.0
                        {
                            Ok(t as $ty)
                        } else {
                            Err(out_of_range(f.to_string()))
                        }
                    }
                    Raw::Bool(b) => Err(format!("expected {}, got the boolean {b}", $expecting)),
                    Raw::Text(text) => Self::from_raw(number_in_text(text)?),
                }
            }
        }
    };
}

integer!(i32, "a 32-bit integer");
integer!(u32, "a 32-bit unsigned integer");
integer!(i64, "a 64-bit integer");
integer!(u64, "a 64-bit unsigned integer");

impl Scalar for f64 {
    const EXPECTING: &'static str = "a number";

    fn from_raw(raw: Raw<'_>) -> Result<Self, String> {
        match raw {
            Raw::Int(n) => Ok(n as f64),
            Raw::Uint(n) => Ok(n as f64),
            Raw::Float(f) => Ok(f),
            Raw::Bool(b) => Err(format!("expected a number, got the boolean {b}")),
            Raw::Text("Infinity") => Ok(f64::INFINITY),
            Raw::Text("-Infinity") => Ok(f64::NEG_INFINITY),
            Raw::Text(text) => Self::from_raw(number_in_text(text)?),
        }
    }
}

impl Scalar for bool {
    const EXPECTING: &'static str = "a boolean";

    fn from_raw(raw: Raw<'_>) -> Result<Self, String> {
        match raw {
            Raw::Bool(b) => Ok(b),
            Raw::Text(text) => match text.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(format!("'{text}' is not a boolean")),
            },
            Raw::Int(n) => Err(format!("expected a boolean, got the number {n}")),
            Raw::Uint(n) => Err(format!("expected a boolean, got the number {n}")),
            Raw::Float(f) => Err(format!("expected a boolean, got the number {f}")),
        }
    }
}

/// A scalar decoded with the lenient rules; use through [`required`] and
/// [`option`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lenient<T>(pub T);

struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Scalar> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (or a string holding one)", T::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        convert(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        if v < 0 {
            convert(Raw::Int(v))
        } else {
            convert(Raw::Uint(v.unsigned_abs()))
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        convert(Raw::Uint(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        convert(Raw::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        convert(Raw::Text(v))
    }
}

fn convert<T: Scalar, E: de::Error>(raw: Raw<'_>) -> Result<Lenient<T>, E> {
    T::from_raw(raw).map(Lenient).map_err(E::custom)
}

impl<'de, T: Scalar> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

/// `deserialize_with` for a required scalar field.
pub fn required<'de, D: Deserializer<'de>, T: Scalar>(deserializer: D) -> Result<T, D::Error> {
    Lenient::<T>::deserialize(deserializer).map(|l| l.0)
}

/// `deserialize_with` for an optional scalar field (`null` is unset); pair it
/// with `#[serde(default)]`.
pub fn option<'de, D: Deserializer<'de>, T: Scalar>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Lenient<T>>::deserialize(deserializer)?.map(|l| l.0))
}

/// `serialize_with` for a double field: a number, or `"Infinity"`,
/// `"-Infinity"`, `null` (NaN).
pub fn f64<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    let v = *value;
    if v.is_finite() {
        serializer.serialize_f64(v)
    } else if v.is_nan() {
        serializer.serialize_none()
    } else if v > 0.0 {
        serializer.serialize_str("Infinity")
    } else {
        serializer.serialize_str("-Infinity")
    }
}

/// `serialize_with` for an optional double field (skip `None` with
/// `skip_serializing_if`).
pub fn option_f64<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => f64(v, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn parse<T: Scalar>(json: &str) -> Result<T, String> {
        let mut de = serde_json::Deserializer::from_str(json);
        required::<_, T>(&mut de).map_err(|e| e.to_string())
    }

    #[test]
    fn integers_accept_numbers_and_strings() {
        assert_eq!(parse::<u32>("5"), Ok(5));
        assert_eq!(parse::<u32>("\"5\""), Ok(5));
        assert_eq!(parse::<i64>("\"-42\""), Ok(-42));
        assert_eq!(parse::<i64>("-42"), Ok(-42));
        assert_eq!(parse::<u64>("\"18446744073709551615\""), Ok(u64::MAX));
        assert_eq!(parse::<i32>("\"1e3\""), Ok(1000));
    }

    #[test]
    fn integers_truncate_fractions_like_a_static_cast() {
        assert_eq!(parse::<i64>("5.9"), Ok(5));
        assert_eq!(parse::<i64>("-5.9"), Ok(-5));
        assert_eq!(parse::<u32>("\"7.5\""), Ok(7));
    }

    #[test]
    fn integers_reject_out_of_range_and_non_numbers() {
        let err = parse::<u32>("-1").unwrap_err();
        assert!(
            err.contains("out of range for a 32-bit unsigned integer"),
            "{err}"
        );
        assert!(parse::<i32>("2147483648").is_err());
        assert!(parse::<u64>("1e20").is_err());
        assert!(
            parse::<i64>("\"five\"")
                .unwrap_err()
                .contains("'five' is not a number")
        );
        assert!(parse::<i64>("true").is_err());
        assert!(parse::<i64>("null").is_err());
        assert!(parse::<i64>("[1]").is_err());
    }

    #[test]
    fn doubles_accept_numbers_strings_and_infinity() {
        assert_eq!(parse::<f64>("1"), Ok(1.0));
        assert_eq!(parse::<f64>("\"2.5\""), Ok(2.5));
        assert_eq!(parse::<f64>("\"Infinity\""), Ok(f64::INFINITY));
        assert_eq!(parse::<f64>("\"-Infinity\""), Ok(f64::NEG_INFINITY));
        assert!(parse::<f64>("\"NaN\"").is_err());
        assert!(parse::<f64>("\"infinity\"").is_err());
        assert!(parse::<f64>("false").is_err());
    }

    #[test]
    fn bools_accept_booleans_and_their_strings() {
        assert_eq!(parse::<bool>("true"), Ok(true));
        assert_eq!(parse::<bool>("\"false\""), Ok(false));
        assert!(parse::<bool>("\"yes\"").is_err());
        assert!(parse::<bool>("1").is_err());
    }

    #[derive(Serialize)]
    struct Doubles {
        #[serde(serialize_with = "f64")]
        a: f64,
        #[serde(serialize_with = "option_f64")]
        b: Option<f64>,
    }

    #[test]
    fn doubles_print_as_numbers_and_infinity_as_strings() {
        let out = |a, b| serde_json::to_string(&Doubles { a, b }).unwrap();
        assert_eq!(out(15.0, Some(0.5)), r#"{"a":15.0,"b":0.5}"#);
        assert_eq!(
            out(f64::INFINITY, Some(f64::NEG_INFINITY)),
            r#"{"a":"Infinity","b":"-Infinity"}"#
        );
        assert_eq!(out(f64::NAN, None), r#"{"a":null,"b":null}"#);
    }
}
