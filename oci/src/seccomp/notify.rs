//! SCMP_ACT_NOTIFY's other half: where the seccomp listener fd goes. The
//! container child installs the filter with
//! [`SeccompProgram::install_with_listener`](super::SeccompProgram::install_with_listener),
//! hands the fd to the runtime (for instance with [`send_fd`](super::send_fd)),
//! and the runtime sends it with the container's state to the seccomp agent at
//! `linux.seccomp.listenerPath`, as the runtime spec describes: one message,
//! an OCI `ContainerProcessState` JSON whose `fds` name the SCM_RIGHTS fds.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{ContainerProcessState, SECCOMP_FD_NAME, State};

use super::error::SeccompError;
use super::fdpass::send_fd;

/// The seccomp agent a profile's notifications go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyListener {
    path: PathBuf,
    metadata: Option<String>,
}

impl NotifyListener {
    /// A listener at `path` (`listenerPath`) with the profile's opaque
    /// `listenerMetadata`.
    pub fn new(path: PathBuf, metadata: Option<String>) -> Self {
        NotifyListener { path, metadata }
    }

    /// The agent's unix socket.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The opaque metadata passed on to the agent.
    pub fn metadata(&self) -> Option<&str> {
        self.metadata.as_deref()
    }

    /// The message the agent receives with the listener fd.
    pub fn process_state(&self, pid: i32, state: State) -> ContainerProcessState {
        let mut msg = ContainerProcessState::default();
        msg.set_version(state.version().clone());
        msg.set_fds(vec![SECCOMP_FD_NAME.to_string()]);
        msg.set_pid(pid);
        msg.set_metadata(self.metadata.clone());
        msg.set_state(state);
        msg
    }

    /// Connects to the agent and sends it `listener_fd` with the container's
    /// `state` (`pid` is the container process as the runtime sees it). Runs
    /// in the runtime (it allocates), never in the container child.
    pub fn send(
        &self,
        listener_fd: BorrowedFd<'_>,
        pid: i32,
        state: State,
    ) -> Result<(), SeccompError> {
        let err = |what, source| SeccompError::Listener {
            path: self.path.clone(),
            what,
            source,
        };
        let json = serde_json::to_vec(&self.process_state(pid, state))
            .map_err(|e| err("encoding the container process state", e.into()))?;
        let socket =
            UnixStream::connect(&self.path).map_err(|e| err("connecting to the agent", e))?;
        send_fd(socket.as_fd(), listener_fd, &json).map_err(|errno| {
            err(
                "sending the listener fd",
                std::io::Error::from_raw_os_error(errno),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seccomp::recv_fd;
    use std::os::unix::net::UnixListener;

    #[test]
    fn the_agent_receives_the_state_and_the_fd() {
        let dir = std::env::temp_dir().join(format!("corral-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("agent.sock");
        let _ = std::fs::remove_file(&sock);
        let agent = UnixListener::bind(&sock).unwrap();
        let listener = NotifyListener::new(sock.clone(), Some("tenant=a".into()));
        let (fd_end, _other) = UnixStream::pair().unwrap();
        let mut state = State::default();
        state.set_id("c1".into());
        listener.send(fd_end.as_fd(), 42, state).unwrap();

        let (conn, _) = agent.accept().unwrap();
        let mut buf = [0u8; 4096];
        let (n, _fd) = recv_fd(conn.as_fd(), &mut buf).unwrap();
        let got: ContainerProcessState = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(got.fds(), &vec![SECCOMP_FD_NAME.to_string()]);
        assert_eq!(*got.pid(), 42);
        assert_eq!(got.metadata().as_deref(), Some("tenant=a"));
        assert_eq!(got.state().id(), "c1");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_agent_names_the_path() {
        let listener = NotifyListener::new("/nonexistent/agent.sock".into(), None);
        let (a, _b) = UnixStream::pair().unwrap();
        let e = listener.send(a.as_fd(), 1, State::default()).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/agent.sock"), "{e}");
    }
}
