//! Proto enums on the wire: printed as their value names, read by name only.
//!
//! As stout's parser does (`protobuf.hpp`, `Parser::operator()(JSON::String)`):
//! an unknown name is an error for a required field, leaves an optional field
//! unset ([`option`]) and is dropped from a repeated field ([`repeated`]);
//! a JSON number is always an error (`"Not expecting a JSON number"`).
//!
//! The crate-internal `proto_enum!` macro declares such an enum with its
//! names and proto numbers.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A proto enum: a closed set of named values.
pub trait ProtoEnum: Copy + Sized + 'static {
    /// The proto type name, for messages (`TaskState`).
    const TYPE_NAME: &'static str;
    /// Every value, in proto declaration order.
    const ALL: &'static [Self];
    /// The wire name (`TASK_RUNNING`).
    fn name(self) -> &'static str;
    /// The proto number.
    fn number(self) -> i32;
    /// The value with this wire name.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// A name that is not a value of the enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{name}' is not a {type_name} value")]
pub struct UnknownEnumName {
    /// The proto enum type.
    pub type_name: &'static str,
    /// The name given.
    pub name: String,
}

/// Looks a value up by name, with an error naming the type.
pub fn parse_name<T: ProtoEnum>(name: &str) -> Result<T, UnknownEnumName> {
    T::from_name(name).ok_or_else(|| UnknownEnumName {
        type_name: T::TYPE_NAME,
        name: name.to_owned(),
    })
}

struct StrictVisitor<T>(PhantomData<T>);

impl<T: ProtoEnum> Visitor<'_> for StrictVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} name", T::TYPE_NAME)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        parse_name(v).map_err(E::custom)
    }
}

/// Deserializes a required enum field: unknown names are an error.
pub fn strict<'de, D: Deserializer<'de>, T: ProtoEnum>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_str(StrictVisitor(PhantomData))
}

/// An enum value that may be unknown (`None`) or absent (`null`, `None`).
struct Known<T>(Option<T>);

struct KnownVisitor<T>(PhantomData<T>);

impl<'de, T: ProtoEnum> Visitor<'de> for KnownVisitor<T> {
    type Value = Known<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} name", T::TYPE_NAME)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Known(T::from_name(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Known(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Known(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: ProtoEnum> Deserialize<'de> for Known<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KnownVisitor(PhantomData))
    }
}

/// `deserialize_with` for an optional enum field: an unknown name or `null`
/// leaves it unset. Pair with `#[serde(default)]`.
pub fn option<'de, D: Deserializer<'de>, T: ProtoEnum>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Ok(Known::<T>::deserialize(deserializer)?.0)
}

/// `deserialize_with` for an optional enum field with a proto default (the
/// type's `Default`): an unknown name or `null` gives the default.
pub fn or_default<'de, D: Deserializer<'de>, T: ProtoEnum + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(option(deserializer)?.unwrap_or_default())
}

/// `deserialize_with` for a repeated enum field: unknown names and `null`
/// elements are dropped, `null` is empty. Pair with `#[serde(default)]`.
pub fn repeated<'de, D: Deserializer<'de>, T: ProtoEnum>(
    deserializer: D,
) -> Result<Vec<T>, D::Error> {
    let values = Option::<Vec<Known<T>>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(values.into_iter().filter_map(|k| k.0).collect())
}

/// Declares a proto enum: `Variant = number => "WIRE_NAME"`, in proto order.
/// Generates `ALL`, `name`, `number`, `from_name`, `from_number`, [`ProtoEnum`],
/// `Display`, `FromStr`, the strict serde impls, and `Default` as the first
/// declared value (what proto2's getter returns for an unset field).
macro_rules! proto_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $number:literal => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in proto declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire name.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }

            /// The proto number.
            pub const fn number(self) -> i32 {
                match self { $(Self::$variant => $number),+ }
            }

            /// The value with this wire name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $($wire => Some(Self::$variant),)+ _ => None }
            }

            /// The value with this proto number.
            pub fn from_number(number: i32) -> Option<Self> {
                match number { $($number => Some(Self::$variant),)+ _ => None }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl $crate::json::ProtoEnum for $name {
            const TYPE_NAME: &'static str = stringify!($name);
            const ALL: &'static [Self] = $name::ALL;

            fn name(self) -> &'static str {
                $name::name(self)
            }

            fn number(self) -> i32 {
                $name::number(self)
            }

            fn from_name(name: &str) -> Option<Self> {
                $name::from_name(name)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::json::UnknownEnumName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::json::enums::parse_name(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::json::enums::strict(d)
            }
        }
    };
}

pub(crate) use proto_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    proto_enum! {
        /// A test enum.
        pub enum Color {
            Red = 0 => "RED",
            Blue = 7 => "BLUE",
        }
    }

    #[derive(Debug, Default, Serialize, serde::Deserialize, PartialEq)]
    struct Holder {
        #[serde(
            default,
            deserialize_with = "option",
            skip_serializing_if = "Option::is_none"
        )]
        optional: Option<Color>,
        #[serde(
            default,
            deserialize_with = "repeated",
            skip_serializing_if = "Vec::is_empty"
        )]
        many: Vec<Color>,
        #[serde(default, deserialize_with = "or_default")]
        defaulted: Color,
    }

    #[derive(Debug, serde::Deserialize)]
    struct Required {
        #[allow(dead_code)]
        color: Color,
    }

    #[test]
    fn names_numbers_and_display() {
        assert_eq!(Color::ALL, &[Color::Red, Color::Blue]);
        assert_eq!(Color::Blue.name(), "BLUE");
        assert_eq!(Color::Blue.number(), 7);
        assert_eq!(Color::from_number(7), Some(Color::Blue));
        assert_eq!(Color::from_name("RED"), Some(Color::Red));
        assert_eq!(Color::Red.to_string(), "RED");
        assert_eq!("BLUE".parse::<Color>(), Ok(Color::Blue));
        let err = "GREEN".parse::<Color>().unwrap_err();
        assert_eq!(err.to_string(), "'GREEN' is not a Color value");
    }

    #[test]
    fn unknown_names_are_unset_dropped_or_defaulted() {
        let h: Holder = serde_json::from_str(
            r#"{"optional": "GREEN", "many": ["RED", "GREEN", null, "BLUE"], "defaulted": "PINK"}"#,
        )
        .unwrap();
        assert_eq!(
            h,
            Holder {
                optional: None,
                many: vec![Color::Red, Color::Blue],
                defaulted: Color::Red
            }
        );
        let h: Holder = serde_json::from_str(r#"{"optional": null, "many": null}"#).unwrap();
        assert_eq!(h, Holder::default());
        let h: Holder =
            serde_json::from_str(r#"{"optional": "RED", "defaulted": "BLUE"}"#).unwrap();
        assert_eq!(h.optional, Some(Color::Red));
        assert_eq!(h.defaulted, Color::Blue);
    }

    #[test]
    fn unknown_name_in_required_field_is_an_error() {
        let err = serde_json::from_str::<Required>(r#"{"color": "GREEN"}"#).unwrap_err();
        assert!(
            err.to_string().contains("'GREEN' is not a Color value"),
            "{err}"
        );
    }

    #[test]
    fn numbers_are_rejected_even_for_optional_fields() {
        assert!(serde_json::from_str::<Required>(r#"{"color": 0}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"optional": 7}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"many": [0]}"#).is_err());
    }

    #[test]
    fn printed_by_name() {
        let h = Holder {
            optional: Some(Color::Red),
            many: vec![Color::Blue],
            defaulted: Color::Red,
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"optional":"RED","many":["BLUE"],"defaulted":"RED"}"#
        );
    }
}
