//! A tiny HTTP/1.1 server on a loopback port for the harness' own unit
//! tests: it parses each request (sized bodies only), records it and lets
//! a handler write whatever bytes it likes back, on a thread per connection.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A request as the server read it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        super::header(&self.headers, name)
    }
}

/// Writes a response with `Content-Length`.
pub(crate) fn respond(socket: &mut TcpStream, status: u16, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(&[head.as_bytes(), body].concat());
}

/// Writes `data` as one chunk (or the last chunk when empty).
pub(crate) fn chunk(socket: &mut TcpStream, data: &[u8]) -> bool {
    let framed = [format!("{:x}\r\n", data.len()).as_bytes(), data, b"\r\n"].concat();
    socket.write_all(&framed).is_ok()
}

type Handler = dyn Fn(&Request, &mut TcpStream) -> bool + Send + Sync;

/// The server; stops accepting when dropped.
pub(crate) struct TestServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Request>>>,
    pub connections: Arc<Mutex<usize>>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestServer({})", self.url)
    }
}

/// Serves with `handler`, which answers one request and says whether the
/// connection stays open for the next.
pub(crate) fn serve(
    handler: impl Fn(&Request, &mut TcpStream) -> bool + Send + Sync + 'static,
) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(Mutex::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handler: Arc<Handler> = Arc::new(handler);
    let (r, c, s) = (requests.clone(), connections.clone(), stop.clone());
    let acceptor = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((socket, _)) => {
                    *c.lock().unwrap() += 1;
                    let (r, h) = (r.clone(), handler.clone());
                    std::thread::spawn(move || connection(socket, &r, &*h));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    TestServer {
        url,
        requests,
        connections,
        stop,
        acceptor: Some(acceptor),
    }
}

fn connection(mut socket: TcpStream, requests: &Mutex<Vec<Request>>, handler: &Handler) {
    socket.set_nonblocking(false).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while let Some(request) = read_request(&mut socket) {
        requests.lock().unwrap().push(request.clone());
        if !handler(&request, &mut socket) {
            break;
        }
    }
}

fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = socket.read(&mut buf).ok().filter(|&n| n > 0)?;
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = super::header(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[end + 4..].to_vec();
    while body.len() < len {
        let n = socket.read(&mut buf).ok().filter(|&n| n > 0)?;
        body.extend_from_slice(&buf[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
    }
}
