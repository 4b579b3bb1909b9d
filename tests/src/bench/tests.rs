//! The bench's parts on loopback: pipelined answers paired with their
//! calls, and a small paced run of the fleet and the framework against a
//! real (debug) master.

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use super::conn::{Conn, Pipeline};
use super::fleet::Fleet;
use super::framework::{Framework, Plan};
use super::poll::Poller;
use crate::master::MasterProcess;
use crate::simagent::{Backoff, default_resources};

#[test]
fn pipelined_answers_pair_with_their_calls_in_order() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut poller = Poller::new().unwrap();
    let conn = Conn::connect(listener.local_addr().unwrap(), &poller, 7).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let mut calls: Pipeline<&str> = Pipeline::new(conn);
    calls
        .send(b"GET /a HTTP/1.1\r\n\r\n", "a", &poller)
        .unwrap();
    calls
        .send(b"GET /b HTTP/1.1\r\n\r\n", "b", &poller)
        .unwrap();
    assert_eq!(calls.in_flight(), 2);
    let answers = "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n\
                   HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nhel";
    server.write_all(answers.as_bytes()).unwrap();
    let mut got = Vec::new();
    while got.is_empty() {
        let mut ready = Vec::new();
        poller.wait(Duration::from_secs(5), &mut ready).unwrap();
        assert!(ready.iter().all(|r| r.token == 7), "{ready:?}");
        got = calls.answers().unwrap();
    }
    assert_eq!(got, vec![("a", 202, Vec::new())]);
    server.write_all(b"lo").unwrap();
    let mut got = Vec::new();
    while got.is_empty() {
        poller
            .wait(Duration::from_secs(5), &mut Vec::new())
            .unwrap();
        got = calls.answers().unwrap();
    }
    assert_eq!(got, vec![("b", 400, b"hello".to_vec())]);
    assert_eq!(calls.in_flight(), 0);
    drop(server);
    poller
        .wait(Duration::from_secs(5), &mut Vec::new())
        .unwrap();
    assert!(calls.answers().is_err(), "a closed connection is an error");
}

#[test]
fn a_paced_run_brings_every_task_to_running() {
    let master = MasterProcess::start(&["--allocation-interval", "50ms"]);
    let fleet = Fleet::start(master.addr(), 3, default_resources(), Backoff::default()).unwrap();
    let mut framework = Framework::subscribe(master.addr(), 2).unwrap();
    let plan = Plan {
        tasks: 100,
        cpus: 0.1,
        mem: 32.0,
        stall: Duration::from_secs(30),
        rate: Some(2000.0),
    };
    let out = framework.run(&plan);
    let stats = fleet.stop();
    assert_eq!(out.failure, None, "{out:?}\n{}", master.stderr_log());
    assert_eq!(
        (out.note_count, stats.error_count),
        (0, 0),
        "{out:?} {stats:?}"
    );
    assert_eq!(out.latencies.len(), 100);
    assert!(out.first_accept.is_some() && out.done.is_some());
    // 3 offers of 40: 40 + 40 + 20 tasks, nothing declined.
    assert_eq!((out.offers, out.accepts, out.declined), (3, 3, 0));
    // STARTING and RUNNING of each task, each acknowledged.
    assert_eq!((out.updates, out.acks), (200, 200));
    assert_eq!(stats.launched, 100);
}
