//! Role names: validated paths such as `eng/ml` (Mesos' rules), cheap to
//! clone, with the ancestry questions reservations and quota ask.

use super::error::RoleError;
use std::fmt;
use std::sync::Arc;

/// A validated role path: `/`-separated components, none empty, `.` or `..`,
/// none starting with `-`, no whitespace or control characters; `*` (the
/// default role) only alone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(Arc<str>);

impl RoleName {
    /// Validates `role`.
    pub fn new(role: &str) -> Result<Self, RoleError> {
        validate(role).map_err(|reason| RoleError {
            role: role.to_owned(),
            reason,
        })?;
        Ok(RoleName(Arc::from(role)))
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first component: the top-level role quota is set on.
    pub fn top_level(&self) -> &str {
        top_level(&self.0)
    }

    /// True for a role without `/`.
    pub fn is_top_level(&self) -> bool {
        !self.0.contains('/')
    }

    /// True when `role` is this role or one of its sub-roles: resources
    /// reserved to `self` may be offered to `role`.
    pub fn is_self_or_ancestor_of(&self, role: &str) -> bool {
        is_self_or_ancestor(&self.0, role)
    }
}

/// The first component of a role path.
pub fn top_level(role: &str) -> &str {
    role.split('/').next().unwrap_or(role)
}

/// True when `role` equals `ancestor` or lies below it.
pub fn is_self_or_ancestor(ancestor: &str, role: &str) -> bool {
    role.strip_prefix(ancestor)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn validate(role: &str) -> Result<(), &'static str> {
    if role.is_empty() {
        return Err("a role must not be empty");
    }
    if role == "*" {
        return Ok(());
    }
    for part in role.split('/') {
        match part {
            "" => return Err("a role component must not be empty (leading, trailing or `//`)"),
            "." | ".." => return Err("a role component must not be `.` or `..`"),
            "*" => return Err("`*` is only valid as the whole role"),
            _ if part.starts_with('-') => {
                return Err("a role component must not start with `-`");
            }
            _ if part.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                return Err("a role must not contain whitespace or control characters");
            }
            _ => {}
        }
    }
    Ok(())
}

impl std::borrow::Borrow<str> for RoleName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
