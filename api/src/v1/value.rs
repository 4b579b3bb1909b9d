//! `Value` (the typed payload of resources and attributes: scalar, ranges,
//! set, text) and `Attribute`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `Value.Type`.
    pub enum ValueType {
        Scalar = 0 => "SCALAR",
        Ranges = 1 => "RANGES",
        Set = 2 => "SET",
        Text = 3 => "TEXT",
    }
}

/// `Value.Scalar`: a floating-point quantity (cpus, mem in MB, disk in MB).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Scalar {
    /// The quantity.
    #[serde(
        deserialize_with = "json::lenient::required",
        serialize_with = "json::lenient::f64"
    )]
    pub value: f64,
}

impl Scalar {
    /// A scalar of `value`.
    pub fn new(value: f64) -> Self {
        Scalar { value }
    }
}

/// `Value.Range`: the inclusive interval `[begin, end]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    /// First value in the range.
    #[serde(deserialize_with = "json::lenient::required")]
    pub begin: u64,
    /// Last value in the range (inclusive).
    #[serde(deserialize_with = "json::lenient::required")]
    pub end: u64,
}

/// `Value.Ranges`: a list of inclusive intervals (ports).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Ranges {
    /// The intervals.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub range: Vec<Range>,
}

impl Ranges {
    /// Ranges from `(begin, end)` pairs, as given (not coalesced).
    pub fn new(pairs: impl IntoIterator<Item = (u64, u64)>) -> Self {
        Ranges {
            range: pairs
                .into_iter()
                .map(|(begin, end)| Range { begin, end })
                .collect(),
        }
    }

    /// Sorts the intervals and merges overlapping and adjacent ones, as Mesos'
    /// `coalesce` does (`[1-2],[3-5]` becomes `[1-5]`). Inverted intervals
    /// (`begin > end`) are dropped.
    pub fn coalesce(&mut self) {
        let mut ranges: Vec<Range> = self.range.drain(..).filter(|r| r.begin <= r.end).collect();
        ranges.sort_by_key(|r| (r.begin, r.end));
        let mut merged: Vec<Range> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.begin <= last.end.saturating_add(1) => {
                    last.end = last.end.max(r.end);
                }
                _ => merged.push(r),
            }
        }
        self.range = merged;
    }

    /// How many values the intervals hold (overlaps counted twice).
    pub fn count(&self) -> u64 {
        self.range
            .iter()
            .map(|r| r.end.saturating_sub(r.begin).saturating_add(1))
            .fold(0u64, u64::saturating_add)
    }
}

/// `Value.Set`: a set of strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Set {
    /// The items.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub item: Vec<String>,
}

/// `Value.Text`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Text {
    /// The text.
    pub value: String,
}

/// `Value`: one of the four kinds, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Value {
    /// Which of the other fields holds the value.
    pub r#type: ValueType,
    /// Set when `type` is SCALAR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Set when `type` is RANGES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Set when `type` is SET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Set when `type` is TEXT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

impl Value {
    fn of(r#type: ValueType) -> Self {
        Value {
            r#type,
            scalar: None,
            ranges: None,
            set: None,
            text: None,
        }
    }

    /// A SCALAR value.
    pub fn scalar(value: f64) -> Self {
        Value {
            scalar: Some(Scalar::new(value)),
            ..Value::of(ValueType::Scalar)
        }
    }

    /// A RANGES value.
    pub fn ranges(ranges: Ranges) -> Self {
        Value {
            ranges: Some(ranges),
            ..Value::of(ValueType::Ranges)
        }
    }

    /// A SET value.
    pub fn set(items: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let item = items.into_iter().map(Into::into).collect();
        Value {
            set: Some(Set { item }),
            ..Value::of(ValueType::Set)
        }
    }

    /// A TEXT value.
    pub fn text(value: impl Into<String>) -> Self {
        Value {
            text: Some(Text {
                value: value.into(),
            }),
            ..Value::of(ValueType::Text)
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value)
    }
}

/// `[31000-32000, 33000-34000]`, Mesos' text form.
impl fmt::Display for Ranges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.range.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{}-{}", r.begin, r.end)?;
        }
        f.write_str("]")
    }
}

/// `{a, b}`, Mesos' text form.
impl fmt::Display for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.item.join(", "))
    }
}

/// The value in Mesos' text form (`2`, `[1-5]`, `{a, b}`, `text`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.r#type {
            ValueType::Scalar => write!(f, "{}", self.scalar.unwrap_or_default()),
            ValueType::Ranges => write!(f, "{}", self.ranges.clone().unwrap_or_default()),
            ValueType::Set => write!(f, "{}", self.set.clone().unwrap_or_default()),
            ValueType::Text => {
                f.write_str(self.text.as_ref().map(|t| t.value.as_str()).unwrap_or(""))
            }
        }
    }
}

/// `Attribute`: a named, typed property of an agent (`rack:r1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Which value field is set.
    pub r#type: ValueType,
    /// Set when `type` is SCALAR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scalar: Option<Scalar>,
    /// Set when `type` is RANGES.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranges: Option<Ranges>,
    /// Set when `type` is SET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Set>,
    /// Set when `type` is TEXT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
}

impl Attribute {
    /// An attribute named `name` holding `value`.
    pub fn new(name: impl Into<String>, value: Value) -> Self {
        Attribute {
            name: name.into(),
            r#type: value.r#type,
            scalar: value.scalar,
            ranges: value.ranges,
            set: value.set,
            text: value.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coalesce_merges_overlapping_and_adjacent() {
        let mut r = Ranges::new([(10, 20), (1, 2), (3, 5), (15, 30), (40, 40), (9, 8)]);
        r.coalesce();
        assert_eq!(r, Ranges::new([(1, 5), (10, 30), (40, 40)]));
        assert_eq!(r.count(), 5 + 21 + 1);
        let mut edge = Ranges::new([(u64::MAX, u64::MAX), (0, u64::MAX)]);
        edge.coalesce();
        assert_eq!(edge, Ranges::new([(0, u64::MAX)]));
    }

    #[test]
    fn values_print_in_mesos_text_form() {
        assert_eq!(Value::scalar(2.0).to_string(), "2");
        assert_eq!(Value::scalar(0.5).to_string(), "0.5");
        assert_eq!(
            Value::ranges(Ranges::new([(1, 5), (8, 9)])).to_string(),
            "[1-5, 8-9]"
        );
        assert_eq!(Value::set(["a", "b"]).to_string(), "{a, b}");
        assert_eq!(Value::text("ubuntu").to_string(), "ubuntu");
    }

    #[test]
    fn attribute_json_round_trip() {
        let text = r#"{"name":"os","type":"TEXT","text":{"value":"ubuntu16.04"}}"#;
        let attr: Attribute = serde_json::from_str(text).unwrap();
        assert_eq!(attr, Attribute::new("os", Value::text("ubuntu16.04")));
        assert_eq!(serde_json::to_string(&attr).unwrap(), text);
    }

    #[test]
    fn lenient_range_bounds_and_scalar() {
        let v: Value = serde_json::from_str(
            r#"{"type":"RANGES","ranges":{"range":[{"begin":"31000","end":32000.0}]}}"#,
        )
        .unwrap();
        assert_eq!(v, Value::ranges(Ranges::new([(31000, 32000)])));
        let s: Scalar = serde_json::from_str(r#"{"value":"1.5"}"#).unwrap();
        assert_eq!(s.value, 1.5);
        assert!(serde_json::from_str::<Value>(r#"{"type":"BOGUS"}"#).is_err());
    }
}
