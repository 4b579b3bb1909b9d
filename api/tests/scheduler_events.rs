//! The event examples of Mesos' `docs/scheduler-http-api.md`, decoded,
//! checked field by field, encoded again and compared key by key. Where the
//! page's example disagrees with `scheduler.proto` (and so with what a Mesos
//! master sends), the proto's shape is used and the page's shape is shown to
//! be rejected.

use corral_api::json;
use corral_api::scheduler::{Event, EventType};
use corral_api::v1::{Source, TaskState, ValueType};
use serde_json::json;

#[test]
fn subscribed_event() {
    let text = r#"{
     "type"			: "SUBSCRIBED",
     "subscribed"	: {
         "framework_id"               : {"value":"12220-3440-12532-2345"},
         "heartbeat_interval_seconds" : 15
      }
    }"#;
    let event: Event = json::from_str(text).unwrap();
    assert_eq!(event.r#type, Some(EventType::Subscribed));
    let sub = event.subscribed.as_ref().unwrap();
    assert_eq!(sub.framework_id.as_str(), "12220-3440-12532-2345");
    assert_eq!(sub.heartbeat_interval_seconds, Some(15.0));
    assert_eq!(
        event,
        Event::subscribed("12220-3440-12532-2345".into(), 15.0, None)
    );
    assert_eq!(
        json::to_string(&event).unwrap(),
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"12220-3440-12532-2345"},"heartbeat_interval_seconds":15.0}}"#
    );
}

#[test]
fn offers_event() {
    // The page shows `"offers": [...]`; Event.offers is an `Offers` message
    // holding the list, which is what Mesos sends.
    let offer = json!({
        "allocation_info": {"role": "engineering"},
        "id": {"value": "12214-23523-O235235"},
        "framework_id": {"value": "12124-235325-32425"},
        "agent_id": {"value": "12325-23523-S23523"},
        "hostname": "agent.host",
        "resources": [{"allocation_info": {"role": "engineering"}, "name": "cpus",
                       "type": "SCALAR", "scalar": {"value": 2}, "role": "*"}],
        "attributes": [{"name": "os", "type": "TEXT", "text": {"value": "ubuntu16.04"}}],
        "executor_ids": [{"value": "12214-23523-my-executor"}]
    });
    let wire = json!({"type": "OFFERS", "offers": {"offers": [offer]}});
    let event: Event = json::from_value(wire).unwrap();
    assert_eq!(event.r#type, Some(EventType::Offers));
    let offers = &event.offers.as_ref().unwrap().offers;
    assert_eq!(offers.len(), 1);
    let o = &offers[0];
    assert_eq!(o.id.as_str(), "12214-23523-O235235");
    assert_eq!(o.framework_id.as_str(), "12124-235325-32425");
    assert_eq!(o.agent_id.as_str(), "12325-23523-S23523");
    assert_eq!(o.hostname, "agent.host");
    assert_eq!(
        o.allocation_info.as_ref().and_then(|a| a.role.as_deref()),
        Some("engineering")
    );
    assert_eq!(o.resources[0].scalar_value(), Some(2.0));
    assert_eq!(o.resources[0].role.as_deref(), Some("*"));
    assert_eq!(o.attributes[0].r#type, ValueType::Text);
    assert_eq!(o.attributes[0].text.as_ref().unwrap().value, "ubuntu16.04");
    assert_eq!(o.executor_ids[0].as_str(), "12214-23523-my-executor");
    assert_eq!(event, Event::offers(offers.clone()));

    let out = json::to_value(&event).unwrap();
    let o = &out["offers"]["offers"][0];
    assert_eq!(o["resources"][0]["scalar"]["value"], 2.0);
    assert_eq!(o["resources"][0]["allocation_info"]["role"], "engineering");
    assert_eq!(o["executor_ids"][0]["value"], "12214-23523-my-executor");
    assert_eq!(json::from_value::<Event>(out).unwrap(), event);

    let as_documented = json!({"type": "OFFERS", "offers": [offer_minimal()]});
    assert!(json::from_value::<Event>(as_documented).is_err());
}

fn offer_minimal() -> serde_json::Value {
    json!({"id": {"value": "o"}, "framework_id": {"value": "f"}, "agent_id": {"value": "a"},
           "hostname": "h"})
}

#[test]
fn update_event() {
    let text = r#"{
      "type"	: "UPDATE",
      "update"	: {
        "status"	: {
            "task_id"	: { "value" : "12344-my-task"},
            "state"		: "TASK_RUNNING",
            "source"	: "SOURCE_EXECUTOR",
            "uuid"		: "adfadfadbhgvjayd23r2uahj",
            "bytes"		: "uhdjfhuagdj63d7hadkf"
          }
      }
    }"#;
    let event: Event = json::from_str(text).unwrap();
    assert_eq!(event.r#type, Some(EventType::Update));
    let status = &event.update.as_ref().unwrap().status;
    assert_eq!(status.task_id.as_str(), "12344-my-task");
    assert_eq!(status.state, TaskState::Running);
    assert_eq!(status.source, Some(Source::Executor));
    let uuid = status.uuid.as_ref().unwrap();
    assert_eq!(uuid.len(), 18);
    assert_eq!(&uuid.as_slice()[..3], &[0x69, 0xd7, 0xda]);
    assert_eq!(event, Event::update(status.clone()));

    // "bytes" is not a TaskStatus field: ignored, and gone on output.
    let out = json::to_value(&event).unwrap();
    assert_eq!(
        out,
        json!({"type": "UPDATE", "update": {"status": {
            "task_id": {"value": "12344-my-task"}, "state": "TASK_RUNNING",
            "source": "SOURCE_EXECUTOR", "uuid": "adfadfadbhgvjayd23r2uahj"}}})
    );
}

#[test]
fn other_documented_events() {
    let message: Event = json::from_str(
        r#"{"type": "MESSAGE", "message": {"agent_id": {"value": "12214-23523-S235235"},
            "executor_id": {"value": "12214-23523-my-executor"}, "data": "adfadf3t2wa3353dfadf"}}"#,
    )
    .unwrap();
    assert_eq!(message.message.as_ref().unwrap().data.len(), 15);
    let failure: Event = json::from_str(
        r#"{"type": "FAILURE", "failure": {"agent_id": {"value": "12214-23523-S235235"},
            "executor_id": {"value": "12214-23523-my-executor"}, "status": 1}}"#,
    )
    .unwrap();
    assert_eq!(failure.failure.as_ref().unwrap().status, Some(1));
    let rescind: Event = json::from_str(
        r#"{"type": "RESCIND", "rescind": {"offer_id": {"value": "12214-23523-O235235"}}}"#,
    )
    .unwrap();
    assert_eq!(rescind, Event::rescind("12214-23523-O235235".into()));
    let heartbeat: Event = json::from_str(r#"{"type": "HEARTBEAT"}"#).unwrap();
    assert_eq!(heartbeat, Event::heartbeat());
    // The page puts ERROR's message at the top level; Event.message is the
    // MESSAGE payload object, so Mesos (and corral) reject a string there.
    assert!(json::from_str::<Event>(r#"{"type": "ERROR", "message": "denied"}"#).is_err());
    let error: Event =
        json::from_str(r#"{"type": "ERROR", "error": {"message": "Framework is not authorized"}}"#)
            .unwrap();
    assert_eq!(error, Event::error("Framework is not authorized"));
    for event in [message, failure, rescind, heartbeat, error] {
        assert_eq!(
            json::from_value::<Event>(json::to_value(&event).unwrap()).unwrap(),
            event
        );
    }
}
