//! Malformed and hostile requests to a real `corral master`: each gets the
//! status Mesos gives it and a message naming the problem, and none can
//! act for another framework. Host tests: no root, no VM.

use corral_api::scheduler::Call;
use corral_api::v1::TaskState;
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, framework, raw_post, task_for};
use corral_tests::simagent::{SimAgent, SimOptions};
use std::time::Duration;

const JSON: (&str, &str) = ("Content-Type", "application/json");

/// Headers, body, expected status, words the answer must contain.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, u16, &'a str);
const T: Duration = Duration::from_secs(10);

fn post(m: &MasterProcess, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let (status, _, text) = raw_post(&m.url(), "/api/v1/scheduler", headers, body.as_bytes());
    (status, text)
}

/// POSTs a `size`-byte body; the status line's code. The master may answer
/// and close before the whole body is written, so write errors are
/// ignored and the answer is read anyway.
fn post_huge(m: &MasterProcess, size: usize) -> u16 {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(m.addr()).unwrap();
    conn.set_read_timeout(Some(T)).unwrap();
    let head = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\nConnection: close\r\n\r\n",
        m.addr()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&vec![b'x'; size]);
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

#[test]
fn malformed_requests_are_refused_with_the_reason() {
    let m = MasterProcess::start(&[]);
    let sub = r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    let cases: [Case; 7] = [
        (&[], sub, 400, "Content-Type"),
        (&[("Content-Type", "text/plain")], sub, 415, "text/plain"),
        (
            &[("Content-Type", "application/x-protobuf")],
            sub,
            415,
            "JSON",
        ),
        (&[JSON], "{not json", 400, "parse"),
        (&[JSON], r#"{"type":"SUBSCRIBE"}"#, 400, "subscribe"),
        (
            &[JSON, ("Accept", "application/x-protobuf")],
            sub,
            406,
            "Accept",
        ),
        (
            &[JSON, ("Mesos-Stream-Id", "x")],
            sub,
            400,
            "Mesos-Stream-Id",
        ),
    ];
    for (headers, body, want, words) in cases {
        let (status, text) = post(&m, headers, body);
        assert_eq!(status, want, "{headers:?} {body}: {text}");
        assert!(
            text.contains(words),
            "{headers:?}: '{text}' should mention {words}"
        );
    }
    // A framework without a user or a name.
    let (status, text) = post(
        &m,
        &[JSON],
        r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"","name":"n"}}}"#,
    );
    assert_eq!((status, text.contains("user")), (400, true), "{text}");
    // Bodies beyond the limit are refused before parsing.
    assert_eq!(post_huge(&m, 8 << 20), 413);
}

#[test]
fn calls_need_a_known_subscribed_framework_on_its_own_stream() {
    let m = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let _agent = SimAgent::start(&m.url(), SimOptions::default());
    let mut a = Scheduler::subscribe(&m.url(), framework("a"));
    a.set_auto_acknowledge(true);
    let b = Scheduler::subscribe(&m.url(), framework("b"));
    let revive = |id: &str, stream: Option<&str>| {
        let body = format!(r#"{{"framework_id":{{"value":"{id}"}},"type":"REVIVE"}}"#);
        let mut h = vec![JSON];
        if let Some(s) = stream {
            h.push(("Mesos-Stream-Id", s));
        }
        post(&m, &h, &body)
    };
    let a_id = a.framework_id().to_string();
    assert_eq!(
        revive("nobody", Some(a.stream_id())).0,
        400,
        "unknown framework"
    );
    assert_eq!(revive(&a_id, None).0, 400, "no stream id");
    // B's stream cannot speak for A.
    let (status, text) = revive(&a_id, Some(b.stream_id()));
    assert_eq!(status, 400, "{text}");
    assert_eq!(revive(&a_id, Some(a.stream_id())).0, 202);

    // B cannot use A's offers: its ACCEPT of them is dropped, A keeps them.
    let offers = a.next_offers(T);
    let task = task_for(&offers[0], "stolen", "true", 0.1, 16.0);
    let mut call = Call::accept(
        b.framework_id(),
        vec![offers[0].id.clone()],
        vec![corral_api::v1::OfferOperation::launch(vec![task.clone()])],
        None,
    );
    call.framework_id = Some(b.framework_id());
    let (status, _) = b.call(call);
    assert_eq!(status, 202, "accepted, then failed asynchronously");
    let mut b = b;
    let lost = b.expect_update("stolen", TaskState::Lost, T);
    assert!(lost.message.unwrap().contains("another framework"));
    // A's offer still works.
    let mine = task_for(&offers[0], "mine", "true", 0.1, 16.0);
    a.accept_launch(vec![offers[0].id.clone()], vec![mine], None);
    a.expect_update("mine", TaskState::Finished, T);
}
