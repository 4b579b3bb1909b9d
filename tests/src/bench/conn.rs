//! Non-blocking HTTP/1.1 client connections for the bench: [`Conn`] holds
//! a socket with its output and input buffers; [`Pipeline`] sends calls on
//! it without waiting (HTTP/1.1 pipelining: the server answers them in
//! order) and pairs each answer with its tag; [`EventStream`] reads a
//! subscription's chunked RecordIO body record by record.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};

use corral_api::recordio::Decoder;

use super::poll::Poller;
use crate::http::{ChunkedDecoder, Head, parse_head};

thread_local! {
    /// Where reads land before they are appended to a connection's input
    /// (zeroed once per thread, not per read).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; 64 * 1024]);
}

/// A response head larger than this is an error.
const MAX_HEAD: usize = 64 * 1024;

/// A non-blocking connection with buffers both ways.
#[derive(Debug)]
pub struct Conn {
    socket: TcpStream,
    token: u64,
    out: Vec<u8>,
    out_pos: usize,
    input: Vec<u8>,
    in_pos: usize,
    watching_write: bool,
}

impl Conn {
    /// Connects (blocking), then switches to non-blocking with
    /// `TCP_NODELAY` and registers with `poller` under `token`.
    pub fn connect(addr: SocketAddr, poller: &Poller, token: u64) -> io::Result<Conn> {
        let socket = TcpStream::connect(addr)?;
        socket.set_nodelay(true)?;
        socket.set_nonblocking(true)?;
        poller.add(&socket, token, false)?;
        Ok(Conn {
            socket,
            token,
            out: Vec::new(),
            out_pos: 0,
            input: Vec::new(),
            in_pos: 0,
            watching_write: false,
        })
    }

    /// Queues `bytes` and writes what the socket takes now.
    pub fn send(&mut self, bytes: &[u8], poller: &Poller) -> io::Result<()> {
        self.out.extend_from_slice(bytes);
        self.flush(poller)
    }

    /// Writes what the socket takes; watches for writability while
    /// something is left.
    pub fn flush(&mut self, poller: &Poller) -> io::Result<()> {
        while self.out_pos < self.out.len() {
            match self.socket.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        let pending = !self.out.is_empty();
        if pending != self.watching_write {
            poller.modify(&self.socket, self.token, pending)?;
            self.watching_write = pending;
        }
        Ok(())
    }

    /// Reads everything available; `Ok(false)` when the peer closed.
    pub fn fill(&mut self) -> io::Result<bool> {
        if self.in_pos > 0 && self.in_pos == self.input.len() {
            self.input.clear();
            self.in_pos = 0;
        }
        SCRATCH.with_borrow_mut(|buf| {
            loop {
                match self.socket.read(buf) {
                    Ok(0) => return Ok(false),
                    Ok(n) => self.input.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        })
    }

    fn buffered(&self) -> &[u8] {
        &self.input[self.in_pos..]
    }

    fn consume(&mut self, n: usize) {
        self.in_pos += n;
    }

    /// Takes a complete response head off the input, if one is there.
    pub fn take_head(&mut self) -> io::Result<Option<Head>> {
        let data = self.buffered();
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            if data.len() > MAX_HEAD {
                return Err(io::Error::other("response head larger than 64 KiB"));
            }
            return Ok(None);
        };
        let head = parse_head(&data[..end])?;
        self.consume(end + 4);
        Ok(Some(head))
    }

    /// Takes a complete response with a `Content-Length` body (or none).
    /// Parsed in place: a call's answer is a status line and a few headers.
    pub fn take_response(&mut self) -> io::Result<Option<(u16, Vec<u8>)>> {
        let data = self.buffered();
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            return Ok(None);
        };
        let bad = |what: &str| io::Error::other(format!("bad answer to a call: {what}"));
        let status = data
            .get(9..12)
            .filter(|_| data.starts_with(b"HTTP/1."))
            .and_then(|s| std::str::from_utf8(s).ok()?.parse().ok())
            .ok_or_else(|| bad("status line"))?;
        let mut len = 0;
        for line in data[..end].split(|b| *b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|b| *b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-length") {
                let text = std::str::from_utf8(value).map_err(|_| bad("Content-Length"))?;
                len = text.parse().map_err(|_| bad("Content-Length"))?;
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                return Err(bad("a chunked body"));
            }
        }
        if data.len() < end + 4 + len {
            return Ok(None);
        }
        let body = data[end + 4..end + 4 + len].to_vec();
        self.consume(end + 4 + len);
        Ok(Some((status, body)))
    }

    /// Hands every buffered byte to `f`.
    pub fn drain(&mut self, f: impl FnOnce(&[u8])) {
        f(self.buffered());
        self.in_pos = self.input.len();
    }

    /// The socket.
    pub fn socket(&self) -> &TcpStream {
        &self.socket
    }
}

/// Calls sent back to back on one connection; answers come in order.
#[derive(Debug)]
pub struct Pipeline<T> {
    /// The connection.
    pub conn: Conn,
    waiting: VecDeque<T>,
}

impl<T> Pipeline<T> {
    /// A pipeline on `conn`.
    pub fn new(conn: Conn) -> Pipeline<T> {
        Pipeline {
            conn,
            waiting: VecDeque::new(),
        }
    }

    /// Sends `request`; its answer will come back with `tag`.
    pub fn send(&mut self, request: &[u8], tag: T, poller: &Poller) -> io::Result<()> {
        self.waiting.push_back(tag);
        self.conn.send(request, poller)
    }

    /// Records that one more call, already queued on [`Pipeline::conn`],
    /// awaits its answer (to send several calls in one write).
    pub fn push_tag(&mut self, tag: T) {
        self.waiting.push_back(tag);
    }

    /// Calls not answered yet.
    pub fn in_flight(&self) -> usize {
        self.waiting.len()
    }

    /// Reads what came; returns each complete answer with its call's tag.
    /// An answer nobody asked for is an error, as is the connection
    /// closing.
    pub fn answers(&mut self) -> io::Result<Vec<(T, u16, Vec<u8>)>> {
        let open = self.conn.fill()?;
        let mut out = Vec::new();
        while let Some((status, body)) = self.conn.take_response()? {
            let tag = self
                .waiting
                .pop_front()
                .ok_or_else(|| io::Error::other("an answer to no call"))?;
            out.push((tag, status, body));
        }
        if !open {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the master closed a call connection",
            ));
        }
        Ok(out)
    }
}

/// A subscription: its head, then its body decoded into RecordIO records.
#[derive(Debug)]
pub struct EventStream {
    /// The connection.
    pub conn: Conn,
    /// The response head, once read.
    pub head: Option<Head>,
    chunks: ChunkedDecoder,
    records: Decoder,
    scratch: Vec<u8>,
}

impl EventStream {
    /// Sends the SUBSCRIBE `request` on `conn`.
    pub fn open(mut conn: Conn, request: &[u8], poller: &Poller) -> io::Result<EventStream> {
        conn.send(request, poller)?;
        Ok(EventStream {
            conn,
            head: None,
            chunks: ChunkedDecoder::default(),
            records: Decoder::new(),
            scratch: Vec::new(),
        })
    }

    /// Reads what came: the records completed so far. The head must be a
    /// 200 with a chunked body; the stream ending is an error.
    pub fn records(&mut self) -> io::Result<Vec<Vec<u8>>> {
        let open = self.conn.fill()?;
        if self.head.is_none() {
            let Some(head) = self.conn.take_head()? else {
                return closed_or(open, Vec::new());
            };
            if head.status != 200 {
                let mut text = String::new();
                self.conn
                    .drain(|b| text = String::from_utf8_lossy(b).into_owned());
                return Err(io::Error::other(format!(
                    "SUBSCRIBE answered {}: {text}",
                    head.status
                )));
            }
            self.head = Some(head);
        }
        self.scratch.clear();
        let (chunks, scratch) = (&mut self.chunks, &mut self.scratch);
        let mut failed = None;
        self.conn.drain(|b| failed = chunks.feed(b, scratch).err());
        if let Some(e) = failed {
            return Err(io::Error::other(e));
        }
        let records = self
            .records
            .decode(&self.scratch)
            .map_err(io::Error::other)?;
        closed_or(open, records)
    }
}

fn closed_or<T>(open: bool, value: T) -> io::Result<T> {
    if open {
        Ok(value)
    } else {
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the master closed the stream",
        ))
    }
}
