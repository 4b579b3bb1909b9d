use std::io::Write;
use std::time::{Duration, Instant};

use super::testserver::{chunk, respond, serve};
use super::*;

#[test]
fn chunked_decoder_resumes_anywhere() {
    let wire = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nignored";
    for size in 1..wire.len() {
        let mut d = ChunkedDecoder::default();
        let mut out = Vec::new();
        let mut done = false;
        for piece in wire.chunks(size) {
            done = d.feed(piece, &mut out).unwrap();
        }
        assert!(done, "piece size {size}");
        assert_eq!(out, b"hello world", "piece size {size}");
    }
}

#[test]
fn chunked_decoder_rejects_bad_framing() {
    let mut out = Vec::new();
    let err = ChunkedDecoder::default()
        .feed(b"zz\r\n", &mut out)
        .unwrap_err();
    assert!(err.contains("bad chunk size line 'zz'"), "{err}");
    let err = ChunkedDecoder::default()
        .feed(b"2\r\nabc\r\n", &mut out)
        .unwrap_err();
    assert!(err.contains("longer than its announced size"), "{err}");
}

#[test]
fn stream_reads_chunks_as_they_arrive_over_a_socket() {
    // The server sends the rest only once the client has read "first":
    // a client that could not stream would never get there.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let server = serve(move |_, socket| {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nMesos-Stream-Id: s1\r\n\r\n";
        let _ = socket.write_all(head);
        chunk(socket, b"first");
        if rx
            .lock()
            .unwrap()
            .recv_timeout(Duration::from_secs(5))
            .is_ok()
        {
            let _ = socket.write_all(b"6\r\nsec");
            std::thread::sleep(Duration::from_millis(20));
            let _ = socket.write_all(b"ond\r\n0\r\n\r\n");
        }
        false
    });
    let target = Target::parse(&server.url);
    let request = request_bytes("POST", &target, "/s", &[], b"{}");
    let mut stream = Stream::open(&target, &request, Duration::from_secs(5)).unwrap();
    assert_eq!(stream.head.status, 200);
    assert_eq!(header(&stream.head.headers, "mesos-stream-id"), Some("s1"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    loop {
        assert!(Instant::now() < deadline, "stream never ended; got {got:?}");
        match stream.read(Duration::from_millis(50)).unwrap() {
            Piece::Data(d) => {
                got.extend(d);
                if got == b"first" {
                    tx.send(()).unwrap();
                }
            }
            Piece::End { complete } => {
                assert!(complete);
                break;
            }
        }
    }
    assert_eq!(got, b"firstsecond");
}

#[test]
fn client_reuses_a_kept_alive_connection() {
    let server = serve(|req, socket| {
        respond(socket, 202, "", req.path.as_bytes());
        true
    });
    let mut client = Client::new(&server.url);
    for path in ["/a", "/b", "/c"] {
        let r = client
            .post(path, &[("Content-Type", "application/json")], b"{}")
            .unwrap();
        assert_eq!((r.status, r.text()), (202, path.to_owned()));
    }
    assert_eq!(*server.connections.lock().unwrap(), 1);
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests[0].header("content-length"), Some("2"));
    assert_eq!(
        requests[0].header("host"),
        Some(client.target().authority.as_str())
    );
}

#[test]
fn client_resends_when_the_server_closed_an_idle_connection() {
    // Closes after every answer without saying so: the pymesos quirk.
    let server = serve(|_, socket| {
        respond(socket, 202, "", b"");
        false
    });
    let mut client = Client::new(&server.url);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(client.post("/x", &[], b"").unwrap().status, 202);
    }
    assert_eq!(server.requests.lock().unwrap().len(), 3);
    assert_eq!(*server.connections.lock().unwrap(), 3);
}

#[test]
fn connection_close_is_honoured() {
    let server = serve(|_, socket| {
        respond(socket, 400, "Connection: close\r\n", b"bad");
        true
    });
    let mut client = Client::new(&server.url);
    for _ in 0..2 {
        let r = client.post("/x", &[], b"").unwrap();
        assert_eq!((r.status, r.text().as_str()), (400, "bad"));
    }
    assert_eq!(*server.connections.lock().unwrap(), 2);
}

#[test]
fn a_silent_server_times_out() {
    let server = serve(|_, _| {
        std::thread::sleep(Duration::from_secs(3));
        false
    });
    let mut client = Client::new(&server.url).with_timeout(Duration::from_millis(300));
    let start = Instant::now();
    let err = client.get("/").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn exchange_sends_raw_bytes_and_reads_until_close() {
    let server = serve(|req, socket| {
        let _ = socket.write_all(b"HTTP/1.1 400 Bad\r\n\r\n");
        let _ = socket.write_all(req.method.as_bytes());
        false
    });
    let target = Target::parse(&server.url);
    let r = exchange(
        &target,
        b"BREW /pot HTTP/1.1\r\n\r\n",
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!((r.status, r.text().as_str()), (400, "BREW"));
}

#[test]
fn targets_parse_urls_and_host_ports() {
    let t = Target::parse("http://127.0.0.1:5050/api/v1");
    assert_eq!(t.authority, "127.0.0.1:5050");
    assert_eq!(t.addr.port(), 5050);
    assert_eq!(Target::parse("127.0.0.1:1").authority, "127.0.0.1:1");
}
