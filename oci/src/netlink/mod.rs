//! A small rtnetlink client over a raw NETLINK_ROUTE socket, for moving
//! network devices between namespaces (linux.netDevices): the message
//! encoding is pure (`message`), the socket a thin seam (`socket`).

pub mod message;
mod socket;

pub use message::{Address, Link};
pub use socket::Socket;
