//! The errors of compiling a seccomp profile and of handing a notify
//! listener to its agent. Each names the profile field (as a JSON path such as
//! `linux.seccomp.syscalls[3].action`) or the file it is about.

use std::path::PathBuf;

/// What went wrong turning an OCI seccomp profile into a BPF program, or
/// handing its notify listener to the seccomp agent.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// libseccomp.so.2 could not be opened at run time.
    #[error(
        "cannot load libseccomp.so.2 ({reason}); install the Debian package libseccomp2 \
         (`apt-get install libseccomp2`)"
    )]
    Load {
        /// The dynamic loader's message.
        reason: String,
    },

    /// libseccomp.so.2 was opened but lacks a function corral needs.
    #[error(
        "libseccomp.so.2 has no function `{symbol}` ({reason}); libseccomp 2.5 or newer is \
         needed: upgrade the Debian package libseccomp2"
    )]
    Symbol {
        /// The missing C function.
        symbol: &'static str,
        /// The dynamic loader's message.
        reason: String,
    },

    /// The profile text is not a valid OCI seccomp profile (an unknown action,
    /// operator, architecture or flag, a wrong type, malformed JSON).
    #[error("{path}: {message}")]
    Parse {
        /// Where in the profile, e.g. `linux.seccomp.syscalls[3].action`.
        path: String,
        /// What serde found there.
        message: String,
    },

    /// A value of the profile is well-formed but cannot be compiled.
    #[error("{path}: {message}")]
    Invalid {
        /// Where in the profile, e.g. `linux.seccomp.syscalls[3].args[0].index`.
        path: String,
        /// What is wrong with it and what to do.
        message: String,
    },

    /// libseccomp refused a part of the profile.
    #[error("{path}: libseccomp {call} failed: {source}")]
    Libseccomp {
        /// The part of the profile being compiled.
        path: String,
        /// The libseccomp function that failed.
        call: &'static str,
        /// The errno it returned.
        source: std::io::Error,
    },

    /// Reading the exported BPF program back failed.
    #[error("exporting the seccomp BPF program: {0}")]
    Export(#[source] std::io::Error),

    /// The compiled program exceeds the kernel's limit.
    #[error(
        "linux.seccomp: the compiled program has {len} BPF instructions and the kernel accepts \
         at most {max}; shorten the profile (fewer argument conditions or architectures)"
    )]
    TooLarge {
        /// Instructions produced.
        len: usize,
        /// The kernel's BPF_MAXINSNS.
        max: usize,
    },

    /// Handing the notify listener fd to the seccomp agent failed.
    #[error("linux.seccomp.listenerPath {path:?}: {what}: {source}")]
    Listener {
        /// The agent's socket.
        path: PathBuf,
        /// The step that failed (connect, send).
        what: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl SeccompError {
    /// An [`SeccompError::Invalid`] at `path`.
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        SeccompError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}
