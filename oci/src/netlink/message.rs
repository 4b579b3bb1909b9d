//! rtnetlink messages as bytes: building the requests the runtime sends
//! (look up, move, rename and bring up a link; dump and add addresses) and
//! reading the kernel's answers. Pure, so it is tested on the host.

/// Message types and flags of linux/netlink.h and linux/rtnetlink.h.
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_GETADDR: u16 = 22;
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;

/// Link attributes (IFLA_*).
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_NET_NS_FD: u16 = 28;
/// Address attributes (IFA_*).
pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_BROADCAST: u16 = 4;
pub const IFA_ANYCAST: u16 = 5;
pub const IFA_FLAGS: u16 = 8;
pub const IFA_F_PERMANENT: u32 = 0x80;
/// Flags an address is configured with (NODAD, HOMEADDRESS,
/// MANAGETEMPADDR, NOPREFIXROUTE, MCAUTOJOIN), kept when it is re-added;
/// the others are states the kernel sets.
pub const IFA_F_CONFIG: u32 = 0x02 | 0x10 | 0x100 | 0x200 | 0x400;
pub const RT_SCOPE_UNIVERSE: u8 = 0;
pub const IFF_UP: u32 = 0x1;

const HEADER: usize = 16;

fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// A request being built: the header, a fixed part, then attributes.
#[derive(Debug)]
pub struct Request {
    buf: Vec<u8>,
}

impl Request {
    /// A request of `typ` with `flags` (NLM_F_REQUEST added) and sequence
    /// number `seq`.
    pub fn new(typ: u16, flags: u16, seq: u32) -> Request {
        let mut buf = vec![0u8; HEADER];
        buf[4..6].copy_from_slice(&typ.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        Request { buf }
    }

    /// Appends `struct ifinfomsg` (family AF_UNSPEC).
    pub fn ifinfo(mut self, index: i32, flags: u32, change: u32) -> Request {
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&change.to_ne_bytes());
        self
    }

    /// Appends `struct ifaddrmsg`.
    pub fn ifaddr(
        mut self,
        family: u8,
        prefix_len: u8,
        flags: u8,
        scope: u8,
        index: u32,
    ) -> Request {
        self.buf
            .extend_from_slice(&[family, prefix_len, flags, scope]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self
    }

    /// Appends attribute `typ` holding `data`, padded to 4 bytes.
    pub fn attr(mut self, typ: u16, data: &[u8]) -> Request {
        let len = 4 + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&typ.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// A string attribute, NUL-terminated as the kernel wants names.
    pub fn attr_str(self, typ: u16, s: &str) -> Request {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(typ, &data)
    }

    /// The finished bytes, the length written into the header.
    pub fn bytes(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// One message of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub typ: u16,
    pub seq: u32,
    pub payload: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The messages in one datagram; a truncated one ends the list.
pub fn messages(buf: &[u8]) -> Vec<Message<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + HEADER <= buf.len() {
        let len = u32_at(buf, at) as usize;
        if len < HEADER || at + len > buf.len() {
            break;
        }
        out.push(Message {
            typ: u16_at(buf, at + 4),
            seq: u32_at(buf, at + 8),
            payload: &buf[at + HEADER..at + len],
        });
        at += align(len);
    }
    out
}

/// The errno of an NLMSG_ERROR payload: 0 for an acknowledgement.
pub fn error_code(payload: &[u8]) -> i32 {
    match payload.len() >= 4 {
        true => -(u32_at(payload, 0) as i32),
        false => libc::EIO,
    }
}

/// The attributes after a fixed part of `fixed` bytes: (type, data).
pub fn attrs(payload: &[u8], fixed: usize) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut at = align(fixed);
    while at + 4 <= payload.len() {
        let len = u16_at(payload, at) as usize;
        if len < 4 || at + len > payload.len() {
            break;
        }
        // The top bits are the NESTED and BYTEORDER flags.
        out.push((u16_at(payload, at + 2) & 0x3fff, &payload[at + 4..at + len]));
        at += align(len);
    }
    out
}

/// A link as RTM_NEWLINK describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub name: String,
    pub flags: u32,
}

/// Reads the payload of an RTM_NEWLINK.
pub fn link(payload: &[u8]) -> Option<Link> {
    if payload.len() < 16 {
        return None;
    }
    let name = attrs(payload, 16)
        .into_iter()
        .find(|(t, _)| *t == IFLA_IFNAME)
        .map(|(_, d)| {
            String::from_utf8_lossy(d.split(|b| *b == 0).next().unwrap_or(d)).into_owned()
        })?;
    Some(Link {
        index: u32_at(payload, 4) as i32,
        name,
        flags: u32_at(payload, 8),
    })
}

/// An address as RTM_NEWADDR describes it, with the attributes needed to
/// add it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub family: u8,
    pub prefix_len: u8,
    /// IFA_FLAGS when given, else the 8-bit ifa_flags.
    pub flags: u32,
    pub scope: u8,
    pub index: u32,
    /// IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_ANYCAST.
    pub attrs: Vec<(u16, Vec<u8>)>,
}

impl Address {
    /// Permanent and of global scope: what the runtime spec says a moved
    /// device keeps.
    pub fn kept_on_move(&self) -> bool {
        self.flags & IFA_F_PERMANENT != 0 && self.scope == RT_SCOPE_UNIVERSE
    }

    /// An RTM_NEWADDR adding this address to link `index`.
    pub fn add_request(&self, index: u32, seq: u32) -> Vec<u8> {
        let flags = self.flags & IFA_F_CONFIG;
        let mut r = Request::new(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq).ifaddr(
            self.family,
            self.prefix_len,
            flags as u8,
            self.scope,
            index,
        );
        for (t, d) in &self.attrs {
            r = r.attr(*t, d);
        }
        r.attr(IFA_FLAGS, &flags.to_ne_bytes()).bytes()
    }
}

/// Reads the payload of an RTM_NEWADDR.
pub fn address(payload: &[u8]) -> Option<Address> {
    if payload.len() < 8 {
        return None;
    }
    let all = attrs(payload, 8);
    let flags = all
        .iter()
        .find(|(t, d)| *t == IFA_FLAGS && d.len() == 4)
        .map_or(u32::from(payload[2]), |(_, d)| u32_at(d, 0));
    Some(Address {
        family: payload[0],
        prefix_len: payload[1],
        flags,
        scope: payload[3],
        index: u32_at(payload, 4),
        attrs: all
            .into_iter()
            .filter(|(t, _)| [IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_ANYCAST].contains(t))
            .map(|(t, d)| (t, d.to_vec()))
            .collect(),
    })
}

/// RTM_GETLINK of the link named `name`.
pub fn get_link(name: &str, seq: u32) -> Vec<u8> {
    Request::new(RTM_GETLINK, 0, seq)
        .ifinfo(0, 0, 0)
        .attr_str(IFLA_IFNAME, name)
        .bytes()
}

/// RTM_GETLINK of the link with `index`.
pub fn get_link_by_index(index: i32, seq: u32) -> Vec<u8> {
    Request::new(RTM_GETLINK, 0, seq)
        .ifinfo(index, 0, 0)
        .bytes()
}

/// RTM_NEWLINK moving link `index` into the network namespace `netns_fd`
/// names, renamed to `name` there when given.
pub fn move_link(index: i32, netns_fd: i32, name: Option<&str>, seq: u32) -> Vec<u8> {
    let r = Request::new(RTM_NEWLINK, NLM_F_ACK, seq)
        .ifinfo(index, 0, 0)
        .attr(IFLA_NET_NS_FD, &(netns_fd as u32).to_ne_bytes());
    match name {
        Some(n) => r.attr_str(IFLA_IFNAME, n).bytes(),
        None => r.bytes(),
    }
}

/// RTM_NEWLINK renaming link `index` to `name` (a `%d` template is filled
/// by the kernel).
pub fn rename_link(index: i32, name: &str, seq: u32) -> Vec<u8> {
    Request::new(RTM_NEWLINK, NLM_F_ACK, seq)
        .ifinfo(index, 0, 0)
        .attr_str(IFLA_IFNAME, name)
        .bytes()
}

/// RTM_NEWLINK setting link `index` up.
pub fn set_up(index: i32, seq: u32) -> Vec<u8> {
    Request::new(RTM_NEWLINK, NLM_F_ACK, seq)
        .ifinfo(index, IFF_UP, IFF_UP)
        .bytes()
}

/// RTM_GETADDR dump of every address of every family.
pub fn dump_addresses(seq: u32) -> Vec<u8> {
    Request::new(RTM_GETADDR, NLM_F_DUMP, seq)
        .ifaddr(0, 0, 0, 0, 0)
        .bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(typ: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Request::new(typ, 0, seq).bytes();
        v.extend_from_slice(payload);
        let len = v.len() as u32;
        v[0..4].copy_from_slice(&len.to_ne_bytes());
        v.resize(align(v.len()), 0);
        v
    }

    #[test]
    fn a_move_request_is_header_ifinfomsg_and_padded_attributes() {
        let b = move_link(7, 42, Some("eth7"), 9);
        assert_eq!(b.len(), 16 + 16 + 8 + 12);
        assert_eq!(u32_at(&b, 0) as usize, b.len());
        assert_eq!(u16_at(&b, 4), RTM_NEWLINK);
        assert_eq!(u16_at(&b, 6), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32_at(&b, 8), 9);
        assert_eq!(u32_at(&b, 16 + 4), 7, "ifi_index");
        let a = attrs(&b[16..], 16);
        assert_eq!(
            a,
            [
                (IFLA_NET_NS_FD, &42u32.to_ne_bytes()[..]),
                (IFLA_IFNAME, &b"eth7\0"[..])
            ]
        );
        // "eth7\0" is 9 bytes with its header: padded to 12.
        assert_eq!(u16_at(&b, 16 + 16 + 8), 9);
    }

    #[test]
    fn set_up_changes_only_the_up_flag() {
        let b = set_up(3, 1);
        assert_eq!(b.len(), 32);
        assert_eq!((u32_at(&b, 24), u32_at(&b, 28)), (IFF_UP, IFF_UP));
    }

    #[test]
    fn answers_split_into_messages_and_errors_into_errnos() {
        let mut buf = answer(NLMSG_ERROR, 5, &(-libc::ENODEV).to_ne_bytes());
        buf.extend(answer(NLMSG_ERROR, 6, &0i32.to_ne_bytes()));
        buf.extend(answer(NLMSG_DONE, 7, &[0, 0, 0, 0]));
        let m = messages(&buf);
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].typ, m[0].seq), (NLMSG_ERROR, 5));
        assert_eq!(error_code(m[0].payload), libc::ENODEV);
        assert_eq!(error_code(m[1].payload), 0);
        assert_eq!(m[2].typ, NLMSG_DONE);
        // A truncated tail is dropped, never read past.
        assert_eq!(messages(&buf[..buf.len() - 2]).len(), 2);
    }

    #[test]
    fn links_are_read_with_their_name_index_and_flags() {
        let payload = Request::new(0, 0, 0)
            .ifinfo(12, IFF_UP | 0x40, 0)
            .attr_str(IFLA_IFNAME, "corraltest0")
            .bytes();
        let l = link(&payload[16..]).unwrap();
        assert_eq!(
            l,
            Link {
                index: 12,
                name: "corraltest0".into(),
                flags: IFF_UP | 0x40
            }
        );
        assert_eq!(link(&[0; 8]), None);
    }

    #[test]
    fn addresses_round_trip_keeping_only_what_re_adds_them() {
        let ip = [10u8, 77, 0, 1];
        let payload = Request::new(0, 0, 0)
            .ifaddr(
                libc::AF_INET as u8,
                24,
                IFA_F_PERMANENT as u8,
                RT_SCOPE_UNIVERSE,
                12,
            )
            .attr(IFA_ADDRESS, &ip)
            .attr(IFA_LOCAL, &ip)
            .attr_str(3, "corraltest0")
            .attr(IFA_FLAGS, &(IFA_F_PERMANENT | 0x02).to_ne_bytes())
            .bytes();
        let a = address(&payload[16..]).unwrap();
        assert!(a.kept_on_move());
        assert_eq!(
            (a.prefix_len, a.index, a.flags),
            (24, 12, IFA_F_PERMANENT | 0x02)
        );
        assert_eq!(a.attrs.len(), 2, "the label names the old device: dropped");
        let add = a.add_request(4, 8);
        assert_eq!(u16_at(&add, 4), RTM_NEWADDR);
        let again = address(&add[16..]).unwrap();
        assert_eq!(again.index, 4);
        assert_eq!(
            again.flags, 0x02,
            "NODAD kept, PERMANENT left to the kernel"
        );
        assert_eq!(again.attrs, a.attrs);
        let link_local = Address {
            scope: 253,
            ..a.clone()
        };
        assert!(!link_local.kept_on_move());
        let dynamic = Address { flags: 0, ..a };
        assert!(!dynamic.kept_on_move());
    }
}
