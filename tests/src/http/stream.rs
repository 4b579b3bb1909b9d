//! Reading responses off a socket with a deadline on every read: the head,
//! then the body piece by piece as it arrives ([`Stream`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use super::{Body, Response, Target, header};

/// A response head larger than this is refused.
const MAX_HEAD: usize = 64 * 1024;

pub(super) fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("timed out {what}"))
}

pub(super) fn connect(target: &Target, deadline: Instant) -> io::Result<TcpStream> {
    let left = deadline.saturating_duration_since(Instant::now());
    let socket = TcpStream::connect_timeout(&target.addr, left.max(Duration::from_millis(1)))?;
    socket.set_nodelay(true)?;
    socket.set_write_timeout(Some(left.max(Duration::from_millis(1))))?;
    Ok(socket)
}

/// One read from `socket` bounded by `deadline`. `Ok(None)` means the
/// deadline passed with no data; `Ok(Some(0))` is end of stream.
fn read_until(
    socket: &mut TcpStream,
    buf: &mut [u8],
    deadline: Instant,
) -> io::Result<Option<usize>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        match socket.read(buf) {
            Ok(n) => return Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(None);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The status line and headers of a response.
#[derive(Debug, Clone)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
}

/// Reads a response head. Errors with `UnexpectedEof` and "no response" when
/// the peer closed before sending a byte (a stale keep-alive connection).
fn read_head(socket: &mut TcpStream, deadline: Instant) -> io::Result<(Head, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = parse_head(&data[..end])?;
            return Ok((head, data[end + 4..].to_vec()));
        }
        if data.len() > MAX_HEAD {
            return Err(io::Error::other("response head larger than 64 KiB"));
        }
        match read_until(socket, &mut buf, deadline)? {
            None => return Err(timed_out("waiting for the response head")),
            Some(0) if data.is_empty() => {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no response"));
            }
            Some(0) => return Err(io::Error::other("connection closed inside the head")),
            Some(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// Parses a response head (status line and headers, without the blank
/// line that ends it).
pub fn parse_head(raw: &[u8]) -> io::Result<Head> {
    let text = String::from_utf8_lossy(raw);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let bad = || io::Error::other(format!("bad status line '{status_line}'"));
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next().is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(bad());
    }
    let status = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Ok(Head { status, headers })
}

/// A response whose body is read as it arrives.
#[derive(Debug)]
pub struct Stream {
    /// Status and headers.
    pub head: Head,
    socket: TcpStream,
    body: Body,
    pending: Vec<u8>,
    ended: bool,
}

/// What one [`Stream::read`] gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// Decoded body bytes (maybe none: the wait ended first).
    Data(Vec<u8>),
    /// The body ended: complete, or the connection closed.
    End {
        /// Whether the framing said the body was complete.
        complete: bool,
    },
}

impl Stream {
    /// Sends `request` on a new connection and reads the response head.
    pub fn open(target: &Target, request: &[u8], timeout: Duration) -> io::Result<Stream> {
        let deadline = Instant::now() + timeout;
        Stream::on(connect(target, deadline)?, request, deadline, false)
    }

    /// Sends `request` on `socket` and reads the response head by
    /// `deadline` (`no_body`: the answer to a HEAD has none).
    pub fn on(
        mut socket: TcpStream,
        request: &[u8],
        deadline: Instant,
        no_body: bool,
    ) -> io::Result<Stream> {
        socket.write_all(request)?;
        let (head, pending) = read_head(&mut socket, deadline)?;
        let body = Body::of(&head, no_body)?;
        Ok(Stream {
            head,
            socket,
            body,
            pending,
            ended: false,
        })
    }

    /// Reads the whole body by `deadline`; an error if it does not end by
    /// then or the connection closes inside it.
    pub fn read_body(&mut self, deadline: Instant) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        while !self.body.is_done() && !self.ended {
            if Instant::now() >= deadline {
                return Err(timed_out("reading the response body"));
            }
            match self.read(deadline.saturating_duration_since(Instant::now()))? {
                Piece::Data(d) => body.extend(d),
                Piece::End { complete: false } => {
                    return Err(io::Error::other("connection closed inside the body"));
                }
                Piece::End { complete: true } => break,
            }
        }
        Ok(body)
    }

    /// The connection, to reuse.
    pub fn into_socket(self) -> TcpStream {
        self.socket
    }

    /// A handle on the socket, to shut it down from another thread (which
    /// ends a blocked [`Stream::read`]).
    pub fn socket(&self) -> io::Result<TcpStream> {
        self.socket.try_clone()
    }

    /// Waits at most `wait` for body bytes.
    pub fn read(&mut self, wait: Duration) -> io::Result<Piece> {
        if self.ended || self.body.is_done() {
            self.ended = true;
            return Ok(Piece::End { complete: true });
        }
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.body.feed(&pending, &mut out)?;
            return Ok(Piece::Data(out));
        }
        let mut buf = [0u8; 16 * 1024];
        match read_until(&mut self.socket, &mut buf, Instant::now() + wait)? {
            None => Ok(Piece::Data(out)),
            Some(0) => {
                self.ended = true;
                let complete = matches!(self.body, Body::UntilClose);
                Ok(Piece::End { complete })
            }
            Some(n) => {
                self.body.feed(&buf[..n], &mut out)?;
                Ok(Piece::Data(out))
            }
        }
    }

    /// Reads the rest of the body until it ends or `deadline` passes (then
    /// returns what came).
    pub fn read_to_end(mut self, deadline: Instant) -> io::Result<Response> {
        let mut body = Vec::new();
        while Instant::now() < deadline {
            match self.read(deadline.saturating_duration_since(Instant::now()))? {
                Piece::Data(d) => body.extend(d),
                Piece::End { .. } => break,
            }
        }
        Ok(Response {
            status: self.head.status,
            headers: self.head.headers.clone(),
            body,
        })
    }

    /// Whether the connection may carry another request.
    pub fn reusable(&self) -> bool {
        !self.ended
            && self.body.is_done()
            && !matches!(self.body, Body::UntilClose)
            && !header(&self.head.headers, "connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("close"))
    }

    /// Shuts the connection down (both directions).
    pub fn close(&self) {
        let _ = self.socket.shutdown(Shutdown::Both);
    }
}
