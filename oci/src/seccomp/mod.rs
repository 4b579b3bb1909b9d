//! Seccomp: compiles an OCI seccomp profile to a BPF program in the parent
//! (through libseccomp, loaded at run time) and installs it in the child
//! without allocating.
//!
//! - [`compile`] (runtime side) checks the whole `linux.seccomp` profile and
//!   has libseccomp.so.2 — opened with dlopen, so neither the build nor the
//!   host needs libseccomp-dev — generate the classic BPF program;
//! - [`SeccompProgram::install`] (container side) is one seccomp(2) syscall on
//!   that prepared data: async-signal-safe and allocation-free, fit for a raw
//!   clone3 child of a multi-threaded process;
//! - SCMP_ACT_NOTIFY: [`SeccompProgram::install_with_listener`] returns the
//!   listener fd, [`send_fd`]/[`recv_fd`] move it to the runtime, and
//!   [`NotifyListener::send`] hands it to the agent at `listenerPath`;
//! - [`default_profile`] is the allow-list the agent gives tasks by default;
//! - [`parse_profile`] reads a standalone profile with errors naming the field.
//!
//! See docs/seccomp.md.

mod compile;
mod default;
mod error;
mod fdpass;
mod libseccomp;
mod notify;
mod parse;
mod plan;
mod program;

#[cfg(test)]
mod testutil;

pub use compile::compile;
pub use default::default_profile;
pub use error::SeccompError;
pub use fdpass::{recv_fd, recv_maybe_fd, send_fd};
pub use libseccomp::version as libseccomp_version;
pub use libseccomp::{SONAME as LIBSECCOMP_SONAME, api_level as libseccomp_api_level};
pub use notify::NotifyListener;
pub use parse::parse_profile;
pub use program::{MAX_INSTRUCTIONS, SeccompProgram};
