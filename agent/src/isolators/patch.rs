//! Spec patches: what each isolator contributes to a container's OCI
//! config.json, as JSON-pointer operations, and their merge. Two isolators
//! setting the same field to different values is a conflict, reported with
//! both names and the field; appends (namespaces, mounts, masked paths)
//! add up.

use serde_json::Value;

/// One change to the spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Sets the field at the JSON pointer (parents are created).
    Set(String, Value),
    /// Appends to the array at the JSON pointer (created if absent).
    Append(String, Value),
}

/// An isolator's contribution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecPatch {
    pub ops: Vec<Op>,
}

impl SpecPatch {
    /// Adds a set.
    pub fn set(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        self.ops.push(Op::Set(pointer.to_string(), value.into()));
        self
    }

    /// Adds an append.
    pub fn append(mut self, pointer: &str, value: impl Into<Value>) -> Self {
        self.ops.push(Op::Append(pointer.to_string(), value.into()));
        self
    }
}

/// Two isolators disagree, or a patch does not fit the spec.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MergeError {
    #[error("isolators {first} and {second} both set {pointer}, to {a} and {b}")]
    Conflict {
        pointer: String,
        first: String,
        second: String,
        a: String,
        b: String,
    },
    #[error("isolator {isolator}: {pointer} does not lead to {what} in the spec")]
    Shape {
        isolator: String,
        pointer: String,
        what: &'static str,
    },
}

/// Applies `patches` (isolator name, patch) to `spec` in order.
pub fn merge(spec: &mut Value, patches: &[(String, SpecPatch)]) -> Result<(), MergeError> {
    let mut owners: Vec<(String, String)> = Vec::new();
    for (name, patch) in patches {
        for op in &patch.ops {
            match op {
                Op::Set(ptr, value) => {
                    if let Some((_, first)) = owners.iter().find(|(p, _)| p == ptr)
                        && first != name
                        && spec.pointer(ptr) != Some(value)
                    {
                        return Err(MergeError::Conflict {
                            pointer: ptr.clone(),
                            first: first.clone(),
                            second: name.clone(),
                            a: spec.pointer(ptr).unwrap_or(&Value::Null).to_string(),
                            b: value.to_string(),
                        });
                    }
                    *slot(spec, ptr, name)? = value.clone();
                    owners.push((ptr.clone(), name.clone()));
                }
                Op::Append(ptr, value) => {
                    let s = slot(spec, ptr, name)?;
                    if s.is_null() {
                        *s = Value::Array(Vec::new());
                    }
                    let Value::Array(items) = s else {
                        return Err(shape(name, ptr, "an array"));
                    };
                    items.push(value.clone());
                }
            }
        }
    }
    Ok(())
}

fn shape(isolator: &str, pointer: &str, what: &'static str) -> MergeError {
    MergeError::Shape {
        isolator: isolator.to_string(),
        pointer: pointer.to_string(),
        what,
    }
}

/// The value at `pointer`, creating objects on the way.
fn slot<'a>(
    spec: &'a mut Value,
    pointer: &str,
    isolator: &str,
) -> Result<&'a mut Value, MergeError> {
    let mut cur = spec;
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        if cur.is_null() {
            *cur = Value::Object(Default::default());
        }
        let Value::Object(map) = cur else {
            return Err(shape(isolator, pointer, "an object"));
        };
        cur = map.entry(key).or_insert(Value::Null);
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sets_and_appends_merge_in_order() {
        let mut spec = json!({"linux": {"namespaces": [{"type": "mount"}]}});
        let a = SpecPatch::default()
            .set("/linux/resources/memory/limit", 64)
            .append("/linux/namespaces", json!({"type": "pid"}));
        let b = SpecPatch::default().append("/process/env", "A=1");
        merge(&mut spec, &[("a".into(), a), ("b".into(), b)]).unwrap();
        assert_eq!(spec["linux"]["resources"]["memory"]["limit"], 64);
        assert_eq!(spec["linux"]["namespaces"][1]["type"], "pid");
        assert_eq!(spec["process"]["env"][0], "A=1");
    }

    #[test]
    fn two_isolators_setting_one_field_differently_conflict() {
        let mut spec = json!({});
        let a = SpecPatch::default().set("/process/noNewPrivileges", true);
        let same = SpecPatch::default().set("/process/noNewPrivileges", true);
        let other = SpecPatch::default().set("/process/noNewPrivileges", false);
        merge(&mut spec, &[("x".into(), a.clone()), ("y".into(), same)]).unwrap();
        let e = merge(&mut json!({}), &[("x".into(), a), ("y".into(), other)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "isolators x and y both set /process/noNewPrivileges, to true and false"
        );
    }

    #[test]
    fn patches_that_do_not_fit_are_errors() {
        let mut spec = json!({"process": {"env": "oops"}});
        let p = SpecPatch::default().append("/process/env", "A=1");
        let e = merge(&mut spec, &[("z".into(), p)]).unwrap_err();
        assert!(matches!(e, MergeError::Shape { .. }), "{e}");
    }
}
