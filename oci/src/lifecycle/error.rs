//! Errors of the lifecycle verbs: each says which container and what to do.

use crate::state::Status;

/// A lifecycle verb failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Id(#[from] crate::id::IdError),
    #[error(transparent)]
    Spec(#[from] crate::spec::SpecError),
    #[error("{0}")]
    Plan(#[from] crate::plan::PlanError),
    #[error("{0}")]
    Seccomp(String),
    #[error(transparent)]
    Store(#[from] crate::state::StoreError),
    #[error("cgroup: {0}")]
    Cgroup(String),
    #[error(transparent)]
    Launch(#[from] crate::launch::LaunchError),
    #[error(transparent)]
    Hook(#[from] crate::hooks::HookError),
    #[error("container {id} is {status}: {what}")]
    WrongStatus {
        id: String,
        status: Status,
        what: &'static str,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Unsupported(String),
}

impl RuntimeError {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> RuntimeError {
        let what = what.into();
        move |source| RuntimeError::Io { what, source }
    }
}
