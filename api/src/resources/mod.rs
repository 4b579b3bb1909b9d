//! Resources as operators write them (`--resources` of an agent), following
//! Mesos' `Resources::parse` (`src/v1/resources.cpp`): either a JSON array of
//! `Resource` objects or the text form `cpus:2;mem:1024;ports:[31000-32000];
//! disk(role):10;zones:{a,b}`, where `name(role)` statically reserves for
//! `role`. Results are in the post-refinement format (`reservations`, no
//! `role`), validated, with same-kind entries merged.

mod values;

pub use values::{ValueError, parse_value};

use crate::json::{self, JsonError};
use crate::v1::{ReservationInfo, ReservationType, Resource, Value, ValueType};

/// Resources that cannot be parsed or are not valid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResourceError {
    /// A `;`-separated entry that is not `name:value` / `name(role):value`.
    #[error("bad resource '{token}': expected name:value or name(role):value")]
    BadToken {
        /// The entry.
        token: String,
    },
    /// `(` without a matching `)` after it.
    #[error("bad resource '{token}': mismatched parentheses")]
    Parentheses {
        /// The entry.
        token: String,
    },
    /// The value text of a resource is malformed.
    #[error("bad value '{value}' for resource '{name}': {source}")]
    Value {
        /// Resource name.
        name: String,
        /// Value text.
        value: String,
        /// What is wrong with it.
        #[source]
        source: ValueError,
    },
    /// The value is text; resources are scalars, ranges or sets.
    #[error(
        "bad value '{value}' for resource '{name}': expected a non-negative number, [ranges] or {{set}}"
    )]
    TextValue {
        /// Resource name.
        name: String,
        /// Value text.
        value: String,
    },
    /// The JSON form does not decode.
    #[error("bad resources JSON: {0}")]
    Json(#[from] JsonError),
    /// A resource that Mesos' `Resources::validate` refuses.
    #[error("invalid resource '{name}': {reason}")]
    Invalid {
        /// Resource name (may be empty).
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Parses resources given as JSON or text (see the module doc); entries
/// without a role go to `default_role` (`*` = unreserved).
pub fn parse(text: &str, default_role: &str) -> Result<Vec<Resource>, ResourceError> {
    let parsed = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value @ serde_json::Value::Array(_)) => from_json(value, default_role)?,
        _ => from_text(text, default_role)?,
    };
    let mut result: Vec<Resource> = Vec::with_capacity(parsed.len());
    for resource in parsed {
        validate(&resource)?;
        let resource = to_post_refinement(resource);
        validate_for_command_line(&resource, &result)?;
        merge_into(&mut result, resource);
    }
    Ok(result)
}

fn from_json(value: serde_json::Value, default_role: &str) -> Result<Vec<Resource>, ResourceError> {
    let mut resources: Vec<Resource> = json::from_value(value)?;
    for r in &mut resources {
        if r.role.is_none() && r.reservations.is_empty() {
            r.role = Some(default_role.to_owned());
        }
    }
    Ok(resources)
}

fn from_text(text: &str, default_role: &str) -> Result<Vec<Resource>, ResourceError> {
    let mut resources = Vec::new();
    for token in values::tokenize(text, &[';']) {
        let bad = || ResourceError::BadToken {
            token: token.to_owned(),
        };
        let pair = values::tokenize(token, &[':']);
        let [key, value] = pair[..] else {
            return Err(bad());
        };
        let (name, role) = match key.find('(') {
            None => (key.trim(), default_role),
            Some(open) => match key.find(')') {
                Some(close) if close > open => (key[..open].trim(), key[open + 1..close].trim()),
                _ => {
                    return Err(ResourceError::Parentheses {
                        token: token.to_owned(),
                    });
                }
            },
        };
        let parsed = parse_value(value).map_err(|source| ResourceError::Value {
            name: name.to_owned(),
            value: value.to_owned(),
            source,
        })?;
        if parsed.r#type == ValueType::Text {
            return Err(ResourceError::TextValue {
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
        let mut resource = Resource::new(name, parsed);
        if role != "*" {
            resource
                .reservations
                .push(ReservationInfo::static_for(role));
        }
        resources.push(resource);
    }
    Ok(resources)
}

/// Mesos' `Resources::validate` for one resource.
pub fn validate(r: &Resource) -> Result<(), ResourceError> {
    let invalid = |reason| {
        Err(ResourceError::Invalid {
            name: r.name.clone(),
            reason,
        })
    };
    if r.name.is_empty() {
        return invalid("empty resource name");
    }
    let fields = (r.scalar.is_some(), r.ranges.is_some(), r.set.is_some());
    match r.r#type {
        ValueType::Scalar if fields != (true, false, false) => {
            invalid("a SCALAR needs 'scalar' only")
        }
        ValueType::Scalar if r.scalar.is_some_and(|s| s.value < 0.0 || s.value.is_nan()) => {
            invalid("scalar value < 0")
        }
        ValueType::Ranges if fields != (false, true, false) => invalid("RANGES need 'ranges' only"),
        ValueType::Ranges => {
            let ranges = r
                .ranges
                .as_ref()
                .map(|r| r.range.as_slice())
                .unwrap_or_default();
            for (i, a) in ranges.iter().enumerate() {
                if a.begin > a.end {
                    return invalid("range begin > end");
                }
                if ranges[i + 1..]
                    .iter()
                    .any(|b| a.begin <= b.begin && b.begin <= a.end)
                {
                    return invalid("overlapping ranges");
                }
            }
            Ok(())
        }
        ValueType::Set if fields != (false, false, true) => invalid("a SET needs 'set' only"),
        ValueType::Text => invalid("TEXT is not a resource type"),
        _ => Ok(()),
    }
}

/// Moves the deprecated `role`/`reservation` into `reservations`.
fn to_post_refinement(mut r: Resource) -> Resource {
    let role = r.role.take();
    let reservation = r.reservation.take();
    if r.reservations.is_empty()
        && let Some(role) = role.filter(|role| role != "*")
    {
        let mut level = match reservation {
            Some(dynamic) => ReservationInfo {
                r#type: Some(ReservationType::Dynamic),
                ..dynamic
            },
            None => ReservationInfo::static_for(""),
        };
        level.role = Some(role);
        r.reservations.push(level);
    }
    r
}

/// Mesos' `validateCommandLineResources`, for one more resource.
fn validate_for_command_line(r: &Resource, earlier: &[Resource]) -> Result<(), ResourceError> {
    let invalid = |reason| {
        Err(ResourceError::Invalid {
            name: r.name.clone(),
            reason,
        })
    };
    if r.is_persistent_volume() {
        return invalid("persistent volumes cannot be given as agent resources");
    }
    if r.is_revocable() {
        return invalid("revocable resources cannot be given as agent resources");
    }
    if r.reservations
        .iter()
        .any(|l| l.r#type == Some(ReservationType::Dynamic))
    {
        return invalid("dynamic reservations cannot be given as agent resources");
    }
    if earlier
        .iter()
        .any(|e| e.name == r.name && e.r#type != r.r#type)
    {
        return invalid("the same name is used with different types");
    }
    Ok(())
}

/// Adds `r` to a resource of the same kind (name, type, reservations,
/// disk, markers) or appends it, as Mesos' `Resources::add` does.
fn merge_into(resources: &mut Vec<Resource>, r: Resource) {
    let same = |e: &&mut Resource| {
        let strip = |x: &Resource| Resource {
            scalar: None,
            ranges: None,
            set: None,
            ..x.clone()
        };
        strip(e) == strip(&r)
    };
    let Some(existing) = resources.iter_mut().find(same) else {
        resources.push(r);
        return;
    };
    match (
        &mut existing.scalar,
        &mut existing.ranges,
        &mut existing.set,
    ) {
        (Some(a), _, _) => a.value += r.scalar.map_or(0.0, |s| s.value),
        (_, Some(a), _) => {
            a.range
                .extend(r.ranges.map(|x| x.range).unwrap_or_default());
            a.coalesce();
        }
        (_, _, Some(a)) => {
            for item in r.set.map(|s| s.item).unwrap_or_default() {
                if !a.item.contains(&item) {
                    a.item.push(item);
                }
            }
        }
        _ => {}
    }
}

/// The value held by a resource, rebuilt as a [`Value`].
pub fn value_of(r: &Resource) -> Value {
    Value {
        r#type: r.r#type,
        scalar: r.scalar,
        ranges: r.ranges.clone(),
        set: r.set.clone(),
        text: None,
    }
}

#[cfg(test)]
mod tests;
