//! An event stream end to end: events encoded as JSON, framed with RecordIO,
//! cut into arbitrary chunks (as HTTP chunking and proxies do), decoded and
//! parsed back.

use corral_api::json;
use corral_api::recordio::{self, Decoder};
use corral_api::scheduler::Event;
use corral_api::v1::{Offer, Resource, TaskState, TaskStatus};
use corral_api::{AgentId, FrameworkId, OfferId, TaskId};

fn events() -> Vec<Event> {
    let offer = Offer {
        id: OfferId::new("o1"),
        framework_id: FrameworkId::new("f1"),
        agent_id: AgentId::new("a1"),
        hostname: "agent-1".into(),
        resources: vec![
            Resource::scalar("cpus", 4.0),
            Resource::scalar("mem", 8192.0),
        ],
        ..Offer::default()
    };
    let mut status = TaskStatus::new(TaskId::new("t1"), TaskState::Running);
    status.uuid = Some(vec![9u8; 16].into());
    vec![
        Event::subscribed(FrameworkId::new("f1"), 15.0, None),
        Event::offers(vec![offer]),
        Event::heartbeat(),
        Event::update(status),
        Event::error("bye"),
    ]
}

#[test]
fn events_survive_framing_and_rechunking() {
    let sent = events();
    let mut stream = Vec::new();
    for event in &sent {
        stream.extend(recordio::encode(&json::to_vec(event).unwrap()));
    }
    for chunk_size in [1, 5, 17, 100, stream.len()] {
        let mut decoder = Decoder::new();
        let mut received = Vec::new();
        for chunk in stream.chunks(chunk_size) {
            for record in decoder.decode(chunk).unwrap() {
                received.push(json::from_slice::<Event>(&record).unwrap());
            }
        }
        decoder.finish().unwrap();
        assert_eq!(received, sent, "chunk size {chunk_size}");
    }
}

#[test]
fn heartbeat_frame_is_what_mesos_sends() {
    let frame = recordio::encode(&json::to_vec(&Event::heartbeat()).unwrap());
    assert_eq!(frame, b"20\n{\"type\":\"HEARTBEAT\"}");
}
