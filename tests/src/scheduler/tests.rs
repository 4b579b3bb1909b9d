use std::io::Write;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc;

use corral_api::recordio;
use corral_api::v1::{Resource, Source};
use corral_api::{Bytes, json};

use super::*;
use crate::http::testserver::{Request, TestServer, chunk, respond, serve};

const SEC: Duration = Duration::from_secs(5);

fn record(event: &Event) -> Vec<u8> {
    recordio::encode(&json::to_vec(event).unwrap())
}

fn stream_head(socket: &mut TcpStream) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\nMesos-Stream-Id: stream-1\r\n\r\n";
    socket.write_all(head.as_bytes()).unwrap();
}

fn offer() -> Offer {
    Offer {
        id: OfferId::new("o1"),
        framework_id: FrameworkId::new("fw-1"),
        agent_id: AgentId::new("a1"),
        hostname: "h1".into(),
        resources: vec![
            Resource::scalar("cpus", 4.0).allocated_to("*"),
            Resource::scalar("mem", 4096.0).allocated_to("*"),
        ],
        ..Offer::default()
    }
}

/// A fake master: the stream sends SUBSCRIBED and a HEARTBEAT in one chunk,
/// OFFERS split inside its length header, an UPDATE once ACCEPT arrived and
/// the final chunk once ACKNOWLEDGE arrived.
fn fake_master() -> TestServer {
    let (tx, rx) = mpsc::channel::<String>();
    let (tx, rx) = (Mutex::new(tx), Mutex::new(rx));
    serve(move |req: &Request, socket: &mut TcpStream| {
        let call: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        let kind = call["type"].as_str().unwrap().to_owned();
        if kind != "SUBSCRIBE" {
            respond(socket, 202, "", b"");
            tx.lock().unwrap().send(kind).unwrap();
            return true;
        }
        let rx = rx.lock().unwrap();
        stream_head(socket);
        let subscribed = Event::subscribed(FrameworkId::new("fw-1"), 15.0, None);
        chunk(
            socket,
            &[record(&subscribed), record(&Event::heartbeat())].concat(),
        );
        let offers = record(&Event::offers(vec![offer()]));
        chunk(socket, &offers[..1]);
        std::thread::sleep(Duration::from_millis(100));
        chunk(socket, &offers[1..]);
        assert_eq!(rx.recv_timeout(SEC).unwrap(), "ACCEPT");
        let mut status = TaskStatus::new(TaskId::new("t1"), TaskState::Running);
        status.uuid = Some(Bytes::new(vec![9u8; 16]));
        status.agent_id = Some(AgentId::new("a1"));
        status.source = Some(Source::Executor);
        chunk(socket, &record(&Event::update(status)));
        assert_eq!(rx.recv_timeout(SEC).unwrap(), "ACKNOWLEDGE");
        chunk(socket, b"");
        false
    })
}

#[test]
fn subscribe_launch_acknowledge_against_a_fake_master() {
    let server = fake_master();
    let mut s = Scheduler::subscribe(&server.url, framework("t"));
    assert_eq!(s.framework_id(), FrameworkId::new("fw-1"));
    assert_eq!(s.info().id, Some(FrameworkId::new("fw-1")));
    assert_eq!(s.stream_id(), "stream-1");
    let offers = s.next_offers(SEC);
    assert_eq!(s.heartbeats(), 1);
    let task = task_for(&offers[0], "t1", "echo hi", 0.5, 64.0);
    assert_eq!(task.resources[0].allocation_role(), Some("*"));
    assert_eq!(task.resources[1].scalar_value(), Some(64.0));
    s.accept_launch(vec![offers[0].id.clone()], vec![task], Some(3600.0));
    let status = s.expect_update("t1", TaskState::Running, SEC);
    assert!(s.acknowledge(&status));
    assert!(s.next_event(SEC).is_none());
    assert_eq!(s.closed(), Some("the master ended the stream"));

    let requests = server.requests.lock().unwrap();
    let kinds: Vec<_> = requests.iter().map(|r| r.header("content-type")).collect();
    assert!(
        kinds.iter().all(|k| *k == Some("application/json")),
        "{kinds:?}"
    );
    assert_eq!(requests[0].header("accept"), Some("application/json"));
    assert_eq!(requests[0].header("mesos-stream-id"), None);
    let accept: serde_json::Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert_eq!(requests[1].header("mesos-stream-id"), Some("stream-1"));
    assert_eq!(accept["framework_id"]["value"], "fw-1");
    assert_eq!(accept["accept"]["filters"]["refuse_seconds"], 3600.0);
    let launched = &accept["accept"]["operations"][0]["launch"]["task_infos"][0];
    assert_eq!(launched["command"]["value"], "echo hi");
    let ack: serde_json::Value = serde_json::from_slice(&requests[2].body).unwrap();
    assert_eq!(
        ack["acknowledge"]["uuid"],
        Bytes::new(vec![9u8; 16]).to_base64()
    );
    assert_eq!(ack["acknowledge"]["agent_id"]["value"], "a1");
}

#[test]
fn subscribe_errors_carry_what_came() {
    let server = serve(|_, socket| {
        respond(socket, 400, "", b"Failed to validate scheduler::Call");
        false
    });
    let call = Call::subscribe(framework("t"));
    match Scheduler::try_subscribe(&server.url, &call, SEC) {
        Err(SubscribeError::Status { status: 400, body }) => {
            assert_eq!(body, "Failed to validate scheduler::Call");
        }
        other => panic!("{other:?}"),
    }
    let server = serve(|_, socket| {
        stream_head(socket);
        chunk(socket, &record(&Event::error("Framework has been removed")));
        false
    });
    match Scheduler::try_subscribe(&server.url, &call, SEC) {
        Err(SubscribeError::FirstEvent(e)) => {
            assert_eq!(e.error.unwrap().message, "Framework has been removed");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bad_record_ends_the_stream_with_the_reason() {
    let server = serve(|_, socket| {
        stream_head(socket);
        let subscribed = Event::subscribed(FrameworkId::new("f"), 1.0, None);
        chunk(socket, &record(&subscribed));
        chunk(
            socket,
            &recordio::encode(br#"{"type":"UPDATE","update":{}}"#),
        );
        std::thread::sleep(Duration::from_secs(2));
        false
    });
    let mut s = Scheduler::subscribe(&server.url, framework("t"));
    assert!(s.next_event(SEC).is_none());
    let why = s.closed().unwrap();
    assert!(
        why.starts_with("undecodable event (invalid JSON at 'update"),
        "{why}"
    );
}

#[test]
#[should_panic(expected = "expected OFFERS, got {\"type\":\"RESCIND\"")]
fn expect_names_what_came_instead() {
    let server = serve(|_, socket| {
        stream_head(socket);
        let subscribed = Event::subscribed(FrameworkId::new("f"), 1.0, None);
        let rescind = Event::rescind(OfferId::new("o"));
        chunk(socket, &[record(&subscribed), record(&rescind)].concat());
        std::thread::sleep(Duration::from_secs(2));
        false
    });
    let mut s = Scheduler::subscribe(&server.url, framework("t"));
    s.expect(EventType::Offers, SEC);
}

#[test]
#[should_panic(expected = "has no mem entry with 8192")]
fn task_for_refuses_more_than_offered() {
    task_for(&offer(), "t", "true", 1.0, 8192.0);
}

#[test]
fn raw_post_sends_exactly_the_given_headers() {
    let server = serve(|req, socket| {
        respond(
            socket,
            415,
            "X-Seen: yes\r\n",
            req.header("content-type").unwrap_or("none").as_bytes(),
        );
        false
    });
    let (status, headers, body) = raw_post(&server.url, PATH, &[], b"{}");
    assert_eq!((status, body.as_str()), (415, "none"));
    assert_eq!(http::header(&headers, "x-seen"), Some("yes"));
    let requests = server.requests.lock().unwrap();
    assert_eq!(requests[0].header("connection"), Some("close"));
    assert_eq!(requests[0].header("content-length"), Some("2"));
}
