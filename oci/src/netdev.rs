//! linux.netDevices at create (runtime spec, config-linux.md "Network
//! Devices"): every named host device is checked first, then moved into the
//! container's network namespace under its new name, its permanent
//! global-scope addresses added again there (a move drops them) and set up.
//! A failure moves the devices already moved back to the host, with their
//! name, addresses and state; so does a create that fails later (`Moved`
//! is a guard). After a successful create the runtime leaves them to the
//! namespace, as the spec requires: when it is destroyed the kernel gives
//! physical devices back to the host and destroys virtual ones.

use crate::netlink::{Address, Link, Socket};
use crate::plan::namespaces::NamespacePlan;
use crate::plan::netdevs::NetDevice;
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// Why a device could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum NetDevError {
    #[error("linux.netDevices.{host}: there is no network device {host:?} on the host")]
    Unknown { host: String },
    #[error(
        "linux.netDevices.{host}.name: a device named {name:?} already exists in the container's network namespace"
    )]
    Exists { host: String, name: String },
    #[error(
        "linux.netDevices: the container's network namespace is the host's: add {{\"type\": \"network\"}} without a path to linux.namespaces"
    )]
    HostNamespace,
    #[error("linux.netDevices: {what}: {source}")]
    Namespace {
        what: String,
        source: std::io::Error,
    },
    #[error("linux.netDevices.{host}: {what}: {source}")]
    Netlink {
        host: String,
        what: &'static str,
        source: std::io::Error,
    },
}

fn nl(host: &str, what: &'static str) -> impl Fn(i32) -> NetDevError {
    let host = host.to_string();
    move |e| NetDevError::Netlink {
        host: host.clone(),
        what,
        source: std::io::Error::from_raw_os_error(e),
    }
}

/// A device moved in, with what it takes to give it back.
#[derive(Debug)]
struct MovedDevice {
    host: String,
    /// Its index in the container's namespace.
    index: i32,
    was_up: bool,
    addresses: Vec<Address>,
}

/// The devices moved into a container's namespace. Dropped without
/// `keep`, it moves them back to the host.
#[derive(Debug)]
pub struct Moved {
    devices: Vec<MovedDevice>,
    /// Holds the container's namespace, and its devices, until dropped.
    inside: Socket,
    host_ns: File,
}

impl Moved {
    /// The create succeeded: the devices stay with the namespace.
    pub fn keep(mut self) {
        self.devices.clear();
    }
}

impl Drop for Moved {
    fn drop(&mut self) {
        if !self.devices.is_empty() {
            give_back(&mut self.inside, self.host_ns.as_fd(), &mut self.devices);
        }
    }
}

/// The network namespace of the container whose init is `pid`: the one its
/// clone made, or the one it joins; with the path opened.
pub fn namespace_of(pid: i32, ns: &NamespacePlan) -> (PathBuf, std::io::Result<File>) {
    let path = match ns.joins.iter().find(|j| j.nstype == libc::CLONE_NEWNET) {
        Some(j) => j.path.clone(),
        None => PathBuf::from(format!("/proc/{pid}/ns/net")),
    };
    let file = File::open(&path);
    (path, file)
}

/// Moves `devices` into the network namespace `netns`.
pub fn move_in(devices: &[NetDevice], netns: &File) -> Result<Moved, NetDevError> {
    let ns_err = |what: &str| {
        let what = what.to_string();
        move |source| NetDevError::Namespace { what, source }
    };
    let host_ns = File::open("/proc/thread-self/ns/net")
        .map_err(ns_err("opening /proc/thread-self/ns/net"))?;
    let (a, b) = (
        host_ns
            .metadata()
            .map_err(ns_err("the host's network namespace"))?,
        netns
            .metadata()
            .map_err(ns_err("the container's network namespace"))?,
    );
    if (a.dev(), a.ino()) == (b.dev(), b.ino()) {
        return Err(NetDevError::HostNamespace);
    }
    let io = |e: i32| std::io::Error::from_raw_os_error(e);
    let mut host = Socket::open().map_err(|e| ns_err("a netlink socket")(io(e)))?;
    // Every device is checked before any is moved.
    let mut found = Vec::new();
    for d in devices {
        match host.link(&d.host) {
            Ok(l) => found.push(l),
            Err(libc::ENODEV) => {
                return Err(NetDevError::Unknown {
                    host: d.host.clone(),
                });
            }
            Err(e) => return Err(nl(&d.host, "looking it up")(e)),
        }
    }
    let inside = socket_in(netns.as_fd()).map_err(ns_err(
        "a netlink socket in the container's network namespace",
    ))?;
    let mut moved = Moved {
        devices: Vec::new(),
        inside,
        host_ns,
    };
    for (d, link) in devices.iter().zip(found) {
        move_one(
            &mut host,
            &mut moved.inside,
            netns,
            d,
            &link,
            &mut moved.devices,
        )?;
    }
    Ok(moved)
}

/// Moves one device, recording it in `moved` as soon as it is in the
/// container's namespace.
fn move_one(
    host: &mut Socket,
    inside: &mut Socket,
    netns: &File,
    d: &NetDevice,
    link: &Link,
    moved: &mut Vec<MovedDevice>,
) -> Result<(), NetDevError> {
    let addresses: Vec<Address> = host
        .addresses(link.index)
        .map_err(nl(&d.host, "reading its addresses"))?
        .into_iter()
        .filter(Address::kept_on_move)
        .collect();
    // Moved under its own name, then renamed inside: given a name, the
    // kernel only uses it when the old one is taken in the namespace, and
    // renames after the move, so a failed rename would leave the device
    // in the container unrecorded.
    match host.move_link(link.index, netns.as_raw_fd(), None) {
        Ok(()) => {}
        Err(libc::EEXIST) => {
            return Err(NetDevError::Exists {
                host: d.host.clone(),
                name: d.host.clone(),
            });
        }
        Err(e) => {
            return Err(nl(
                &d.host,
                "moving it into the container's network namespace",
            )(e));
        }
    }
    let index = inside
        .link(&d.host)
        .map_err(nl(
            &d.host,
            "finding it in the container's network namespace",
        ))?
        .index;
    moved.push(MovedDevice {
        host: d.host.clone(),
        index,
        was_up: link.flags & crate::netlink::message::IFF_UP != 0,
        addresses: addresses.clone(),
    });
    if d.name != d.host {
        match inside.rename(index, &d.name) {
            Ok(()) => {}
            Err(libc::EEXIST) => {
                return Err(NetDevError::Exists {
                    host: d.host.clone(),
                    name: d.name.clone(),
                });
            }
            Err(e) => return Err(nl(&d.host, "renaming it in the container")(e)),
        }
    }
    for a in &addresses {
        inside
            .add_address(index, a)
            .map_err(nl(&d.host, "adding its address again in the container"))?;
    }
    inside
        .set_up(index)
        .map_err(nl(&d.host, "setting it up in the container"))
}

/// Moves `devices` back to the host under their names, with their addresses
/// and state; best effort, last moved first.
fn give_back(inside: &mut Socket, host_ns: BorrowedFd, devices: &mut Vec<MovedDevice>) {
    let Ok(mut host) = Socket::open() else {
        return;
    };
    while let Some(d) = devices.pop() {
        if inside
            .move_link(d.index, host_ns.as_raw_fd(), Some(&d.host))
            .is_err()
        {
            continue;
        }
        let Ok(link) = host.link(&d.host) else {
            continue;
        };
        for a in &d.addresses {
            let _ = host.add_address(link.index, a);
        }
        if d.was_up {
            let _ = host.set_up(link.index);
        }
    }
}

/// A netlink socket in the network namespace `netns`: opened by a thread
/// that enters it (setns of a network namespace changes only the calling
/// thread), and stays bound to it after the thread ends.
fn socket_in(netns: BorrowedFd) -> std::io::Result<Socket> {
    let fd = netns.as_raw_fd();
    std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: fd is an open namespace file, borrowed for the scope.
            if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Socket::open().map_err(std::io::Error::from_raw_os_error)
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the namespace thread panicked")))
    })
}
