//! A small blocking HTTP/1.1 client over `std::net::TcpStream` for the
//! integration tests: exact bytes on the wire (so hostile requests are easy),
//! a timeout on every read, keep-alive connections for calls, and streamed
//! response bodies (chunked, sized or until close) decoded incrementally, so
//! a RecordIO event stream can be read as it arrives.

mod body;
mod stream;

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub use body::{Body, ChunkedDecoder};
use stream::connect;
pub use stream::{Head, Piece, Stream, parse_head};

/// How long one request (connect, send, whole response) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where requests go: the socket address and the `Host` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The resolved address.
    pub addr: SocketAddr,
    /// `host:port` as given (the `Host` header).
    pub authority: String,
}

impl Target {
    /// Parses `http://host:port[/...]` or `host:port`; panics on anything else.
    pub fn parse(url: &str) -> Target {
        let rest = url.strip_prefix("http://").unwrap_or(url);
        let authority = rest.split('/').next().unwrap_or_default().to_owned();
        let addr = authority
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .unwrap_or_else(|| panic!("'{url}' is not an http://host:port URL"));
        Target { addr, authority }
    }
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The decoded body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The first header named `name` (case-insensitive) in `headers`.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Builds a request. `Host` and `Content-Length` are added unless `headers`
/// has them (or has `Transfer-Encoding`, for a hand-framed body).
pub fn request_bytes(
    method: &str,
    target: &Target,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(256 + body.len());
    let mut line = |parts: &[&str]| {
        for p in parts {
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    };
    line(&[method, " ", path, " HTTP/1.1"]);
    if !has("host") {
        line(&["Host: ", &target.authority]);
    }
    for (name, value) in headers {
        line(&[name, ": ", value]);
    }
    if !has("content-length") && !has("transfer-encoding") {
        line(&["Content-Length: ", &body.len().to_string()]);
    }
    line(&[]);
    out.extend_from_slice(body);
    out
}

/// Sends raw request bytes on a new connection and reads the whole response
/// (at most `timeout`; a body still streaming then is returned as it is).
pub fn exchange(target: &Target, request: &[u8], timeout: Duration) -> io::Result<Response> {
    let deadline = Instant::now() + timeout;
    Stream::open(target, request, timeout)?.read_to_end(deadline)
}

/// A keep-alive client for one server. A request on a reused connection
/// that the server had closed (no response byte came) is sent once more on
/// a new connection.
#[derive(Debug)]
pub struct Client {
    target: Target,
    timeout: Duration,
    idle: Option<TcpStream>,
}

impl Client {
    /// A client of the server at `url` with [`DEFAULT_TIMEOUT`].
    pub fn new(url: &str) -> Client {
        Client {
            target: Target::parse(url),
            timeout: DEFAULT_TIMEOUT,
            idle: None,
        }
    }

    /// Sets the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The server.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Sends one request and reads the whole response.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        let request = request_bytes(method, &self.target, path, headers, body);
        let deadline = Instant::now() + self.timeout;
        if let Some(socket) = self.idle.take() {
            match self.send_on(socket, &request, deadline, method == "HEAD") {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof || is_reset(&e) => {}
                other => return other,
            }
        }
        let socket = connect(&self.target, deadline)?;
        self.send_on(socket, &request, deadline, method == "HEAD")
    }

    /// POST with a body.
    pub fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Response> {
        self.send("POST", path, headers, body)
    }

    /// GET.
    pub fn get(&mut self, path: &str) -> io::Result<Response> {
        self.send("GET", path, &[], &[])
    }

    fn send_on(
        &mut self,
        socket: TcpStream,
        request: &[u8],
        deadline: Instant,
        no_body: bool,
    ) -> io::Result<Response> {
        let mut stream = Stream::on(socket, request, deadline, no_body)?;
        let body = stream.read_body(deadline)?;
        let (status, headers) = (stream.head.status, stream.head.headers.clone());
        if stream.reusable() {
            self.idle = Some(stream.into_socket());
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

#[cfg(test)]
pub(crate) mod testserver;

#[cfg(test)]
mod tests;
