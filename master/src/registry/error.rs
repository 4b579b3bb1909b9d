//! The registry's error type: every variant names the file, and where it
//! applies the table and key, so an operator can find what went wrong.

use std::path::PathBuf;
use std::sync::Arc;

/// What went wrong opening, reading or writing the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The folder holding the registry could not be created.
    #[error("cannot create the registry folder {dir}: {source}")]
    CreateDir {
        /// The folder (`--work-dir`).
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// redb refused to open the file (another master holds it, it is not a
    /// redb file, or it was written by an incompatible redb version).
    #[error("cannot open the registry {file}: {source} (is another master using this --work-dir?)")]
    Open {
        /// The registry file.
        file: PathBuf,
        /// redb's reason.
        source: redb::DatabaseError,
    },
    /// The file was written by a newer corral whose records this master
    /// cannot read; nothing was changed.
    #[error(
        "the registry {file} has schema version {found}, newer than version {supported} that this \
         master reads: run a corral master at least as new as the one that wrote it"
    )]
    NewerSchema {
        /// The registry file.
        file: PathBuf,
        /// The version in the file.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// A storage operation failed (I/O error, full disk, damaged pages).
    #[error("registry {file}: {op} failed: {source}")]
    Storage {
        /// The registry file.
        file: PathBuf,
        /// What was being done (`commit`, `read table tasks`, …).
        op: String,
        /// redb's reason.
        source: Box<redb::Error>,
    },
    /// A stored record could not be decoded, or does not match its key.
    /// Recovery stops here rather than silently dropping the record.
    #[error(
        "registry {file}: record {key} in table `{table}` is unreadable: {reason} (restore the \
         file from a backup, or remove the record with a corral built for repair)"
    )]
    Corrupt {
        /// The registry file.
        file: PathBuf,
        /// The table holding the record.
        table: &'static str,
        /// The record's key, quoted.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A mutation that cannot be stored (a record without its id, a weight
    /// that is not positive). Nothing of its batch was written.
    #[error("invalid registry mutation {mutation}: {reason}")]
    Invalid {
        /// The mutation kind (`PutFramework`, …).
        mutation: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A record could not be encoded (never expected for corral's types).
    #[error("cannot encode the {what} record for {key}: {reason}")]
    Encode {
        /// The record kind.
        what: &'static str,
        /// The record's key.
        key: String,
        /// serde's reason.
        reason: String,
    },
    /// The writer's background thread could not be started.
    #[error("cannot start the registry writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The writer has stopped (shut down, or its thread died) before the
    /// mutation was committed.
    #[error("the registry writer has stopped; the mutation was not committed")]
    WriterStopped,
    /// A commit of the writer failed; this mutation was not committed, nor
    /// is anything submitted after that failure.
    #[error("registry write failed: {0}")]
    Failed(#[source] Arc<RegistryError>),
}

impl RegistryError {
    /// A [`RegistryError::Storage`] for `op` on `file`.
    pub(super) fn storage<E: Into<redb::Error>>(
        file: &std::path::Path,
        op: impl Into<String>,
    ) -> impl FnOnce(E) -> Self {
        let (file, op) = (file.to_path_buf(), op.into());
        move |source| RegistryError::Storage {
            file,
            op,
            source: Box::new(source.into()),
        }
    }
}
