//! SCMP_ACT_NOTIFY end to end: a child installs a notifying filter, hands
//! the listener fd to its parent, the parent hands it to a seccomp agent at
//! listenerPath, and the agent answers the child's notified syscall.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};

use oci_spec::runtime::{ContainerProcessState, State};

use super::*;

/// The agent's side: receive one notification on `fd`, answer it with `val`.
fn answer(fd: BorrowedFd<'_>, val: i64) -> libc::c_int {
    // SAFETY: seccomp_notif is plain data and must be zeroed for RECV.
    let mut notif: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: fd is a seccomp listener and notif a valid out-struct.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_RECV, &mut notif) };
    assert_eq!(r, 0, "NOTIF_RECV: {}", std::io::Error::last_os_error());
    let mut resp = libc::seccomp_notif_resp {
        id: notif.id,
        val,
        error: 0,
        flags: 0,
    };
    // SAFETY: fd is a seccomp listener and resp a valid in-struct.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
    assert_eq!(r, 0, "NOTIF_SEND: {}", std::io::Error::last_os_error());
    notif.data.nr
}

#[test]
fn the_agent_answers_a_notified_syscall() {
    let dir = std::env::temp_dir().join(format!("corral-seccomp-notify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("agent.sock");
    let _ = std::fs::remove_file(&sock);
    let agent = UnixListener::bind(&sock).unwrap();
    let prog = compiled(&format!(
        r#"{{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":{:?},"listenerMetadata":"m1",
            "syscalls":[{{"names":["getppid"],"action":"SCMP_ACT_NOTIFY"}}]}}"#,
        sock.to_str().unwrap()
    ));
    assert!(prog.flags() & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0);
    let (parent_end, child_end) = UnixStream::pair().unwrap();

    let pid = spawn(|| {
        no_new_privs();
        let fd = match prog.install_with_listener() {
            Ok(fd) => fd,
            Err(e) => return 200 + e,
        };
        // SAFETY: fd was just returned by the kernel and is open.
        let listener = unsafe { BorrowedFd::borrow_raw(fd) };
        if send_fd(child_end.as_fd(), listener, b"l").is_err() {
            return 2;
        }
        if raw(libc::SYS_getppid, [0; 3]) == 4242 {
            0
        } else {
            3
        }
    });

    let mut buf = [0u8; 8];
    let (_, from_child): (usize, OwnedFd) = recv_fd(parent_end.as_fd(), &mut buf).unwrap();
    let listener = prog.listener().unwrap();
    listener
        .send(from_child.as_fd(), pid, State::default())
        .unwrap();
    let (conn, _) = agent.accept().unwrap();
    let mut msg = [0u8; 4096];
    let (n, agent_fd) = recv_fd(conn.as_fd(), &mut msg).unwrap();
    let state: ContainerProcessState = serde_json::from_slice(&msg[..n]).unwrap();
    assert_eq!(*state.pid(), pid);
    assert_eq!(state.metadata().as_deref(), Some("m1"));
    let nr = answer(agent_fd.as_fd(), 4242);
    assert_eq!(i64::from(nr), libc::SYS_getppid);
    assert_eq!(wait(pid), Ended::Exited(0));
    std::fs::remove_dir_all(&dir).unwrap();
}
