//! Typed ids. Each is a proto message `{"value": "..."}` on the wire
//! (`FrameworkID`, `AgentID`, …); [`ContainerId`] also has an optional
//! `parent` for nested containers. `MasterInfo.id` is a plain string.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name {
            value: String,
        }

        impl $name {
            /// Wraps an id value.
            pub fn new(value: impl Into<String>) -> Self {
                Self { value: value.into() }
            }

            /// The id value.
            pub fn as_str(&self) -> &str {
                &self.value
            }

            /// The id value, owned.
            pub fn into_string(self) -> String {
                self.value
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.value)
            }
        }

        impl FromStr for $name {
            type Err = Infallible;

            fn from_str(s: &str) -> Result<Self, Infallible> {
                Ok(Self::new(s))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self { value }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.value
            }
        }
    };
}

string_id! {
    /// `FrameworkID`: assigned by the master when a framework first subscribes.
    FrameworkId
}
string_id! {
    /// `AgentID`: assigned by the master when an agent registers.
    AgentId
}
string_id! {
    /// `OfferID`: assigned by the master to each offer (and inverse offer).
    OfferId
}
string_id! {
    /// `TaskID`: chosen by the framework, unique among its live tasks.
    TaskId
}
string_id! {
    /// `ExecutorID`: chosen by the framework, unique on an agent.
    ExecutorId
}
string_id! {
    /// `ResourceProviderID`: assigned when a resource provider registers.
    ResourceProviderId
}
string_id! {
    /// `OperationID`: chosen by the framework, unique within it.
    OperationId
}

/// `ContainerID`: an executor's container (a UUID chosen by the agent), or a
/// nested container when `parent` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContainerId {
    value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<Box<ContainerId>>,
}

impl ContainerId {
    /// A top-level container id.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            parent: None,
        }
    }

    /// A nested container id under `parent`.
    pub fn nested(parent: ContainerId, value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            parent: Some(Box::new(parent)),
        }
    }

    /// This container's own id value (without its parents).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The parent container, for a nested container.
    pub fn parent(&self) -> Option<&ContainerId> {
        self.parent.as_deref()
    }

    /// The outermost ancestor (itself for a top-level container).
    pub fn root(&self) -> &ContainerId {
        let mut id = self;
        while let Some(parent) = id.parent() {
            id = parent;
        }
        id
    }
}

/// `parent.child` for nested containers, as Mesos prints them.
impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = &self.parent {
            write!(f, "{parent}.")?;
        }
        f.write_str(&self.value)
    }
}

impl From<&str> for ContainerId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_value_objects_on_the_wire() {
        let id = FrameworkId::new("12220-3440-12532-2345");
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            r#"{"value":"12220-3440-12532-2345"}"#
        );
        let back: FrameworkId =
            serde_json::from_str(r#"{"value": "12220-3440-12532-2345", "extra": 1}"#).unwrap();
        assert_eq!(back, id);
        assert_eq!(back.to_string(), "12220-3440-12532-2345");
        assert_eq!("a".parse::<TaskId>().unwrap().as_str(), "a");
    }

    #[test]
    fn an_id_needs_a_string_value() {
        assert!(serde_json::from_str::<AgentId>("{}").is_err());
        assert!(serde_json::from_str::<AgentId>(r#"{"value": 5}"#).is_err());
        assert!(serde_json::from_str::<AgentId>(r#""S1""#).is_err());
    }

    #[test]
    fn ids_order_and_hash_by_value() {
        let mut ids = vec![TaskId::new("b"), TaskId::new("a")];
        ids.sort();
        assert_eq!(ids, vec![TaskId::new("a"), TaskId::new("b")]);
        let set: std::collections::HashSet<_> = [OfferId::new("o"), OfferId::new("o")].into();
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn nested_container_ids() {
        let id = ContainerId::nested(ContainerId::new("exec"), "task");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#"{"value":"task","parent":{"value":"exec"}}"#);
        let back: ContainerId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(back.to_string(), "exec.task");
        assert_eq!(back.root().as_str(), "exec");
        assert_eq!(ContainerId::new("x").parent(), None);
    }
}
