//! Container ids: the names a user gives containers, validated once so the
//! rest of the runtime can use them in paths.

use std::fmt;

/// A container id: 1 to 1024 characters of `[A-Za-z0-9_+.-]`, not starting
/// with a dot (so it can never be `.` or `..` or a hidden state folder).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerId(String);

/// Why a container id was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("container id is empty")]
    Empty,
    #[error("container id {0:?} is longer than 1024 characters")]
    TooLong(String),
    #[error(
        "container id {0:?} is invalid: use letters, digits, '_', '+', '-' and '.', not starting with '.'"
    )]
    BadCharacters(String),
}

impl ContainerId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<ContainerId, IdError> {
        if id.is_empty() {
            return Err(IdError::Empty);
        }
        if id.len() > 1024 {
            return Err(IdError::TooLong(id.chars().take(40).collect()));
        }
        let ok = id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+-.".contains(&b));
        if !ok || id.starts_with('.') {
            return Err(IdError::BadCharacters(id.to_string()));
        }
        Ok(ContainerId(id.to_string()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        for id in ["a", "web-1", "x_y.z+1", "0123456789abcdef"] {
            assert_eq!(ContainerId::new(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn refuses_paths_and_oddities() {
        assert_eq!(ContainerId::new(""), Err(IdError::Empty));
        for id in [".", "..", "../x", "a/b", ".hidden", "a b", "é"] {
            assert!(
                matches!(ContainerId::new(id), Err(IdError::BadCharacters(_))),
                "{id}"
            );
        }
        assert!(matches!(
            ContainerId::new(&"a".repeat(1025)),
            Err(IdError::TooLong(_))
        ));
    }
}
