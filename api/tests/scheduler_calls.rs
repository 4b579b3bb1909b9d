//! The call examples of Mesos' `docs/scheduler-http-api.md`, decoded,
//! checked field by field, encoded again and compared key by key; plus
//! lenient and malformed input. Where the page's example disagrees with
//! `scheduler.proto` (and so with what a Mesos master accepts), the proto's
//! shape is used and the page's shape is shown to be rejected.

use corral_api::json::{self, Bytes};
use corral_api::scheduler::{Call, CallType, Event};
use corral_api::v1::{FrameworkCapabilityType, OperationType};
use serde_json::json;

#[test]
fn subscribe_call() {
    let text = r#"{
       "type"		: "SUBSCRIBE",
       "subscribe"	: {
          "framework_info"	: {
            "user" :  "foo",
            "name" :  "Example HTTP Framework",
            "roles": ["test1", "test2"],
            "capabilities" : [{"type": "MULTI_ROLE"}]
          },
          "suppressed_roles" : ["test2"],
          "offer_constraints" : {"role_constraints": {"test1": {"groups": [{
              "attribute_constraints": [{"selector": {"attribute_name": "foo"},
                                         "predicate": {"exists": {}}}]}]}}}
       }
    }"#;
    let call: Call = json::from_str(text).unwrap();
    assert_eq!(call.r#type, Some(CallType::Subscribe));
    assert_eq!(call.framework_id, None);
    let sub = call.subscribe.as_ref().unwrap();
    assert_eq!(sub.framework_info.user, "foo");
    assert_eq!(sub.framework_info.name, "Example HTTP Framework");
    assert_eq!(sub.framework_info.roles, ["test1", "test2"]);
    assert!(
        sub.framework_info
            .has_capability(FrameworkCapabilityType::MultiRole)
    );
    assert_eq!(sub.suppressed_roles, ["test2"]);
    let constraints = sub.offer_constraints.as_ref().unwrap();
    assert_eq!(
        constraints["role_constraints"]["test1"]["groups"][0]["attribute_constraints"][0]["selector"]
            ["attribute_name"],
        "foo"
    );
    assert_eq!(call.validate_shape(), Ok(()));

    let out = json::to_value(&call).unwrap();
    assert_eq!(
        out,
        json!({
            "type": "SUBSCRIBE",
            "subscribe": {
                "framework_info": {
                    "user": "foo",
                    "name": "Example HTTP Framework",
                    // Proto defaults are printed, as stout's jsonify does.
                    "failover_timeout": 0.0,
                    "checkpoint": false,
                    "roles": ["test1", "test2"],
                    "capabilities": [{"type": "MULTI_ROLE"}]
                },
                "suppressed_roles": ["test2"],
                "offer_constraints": constraints.clone()
            }
        })
    );
    assert_eq!(json::from_value::<Call>(out).unwrap(), call);
}

#[test]
fn accept_call_with_launch() {
    // The page writes `limits` values as bare numbers/strings; TaskInfo.limits
    // maps names to Value.Scalar messages, so `{"value": ...}` is the wire form.
    let text = r#"{
      "framework_id": {"value": "12220-3440-12532-2345"},
      "type": "ACCEPT",
      "accept": {
        "offer_ids": [{"value": "12220-3440-12532-O12"}],
        "operations": [{
          "type": "LAUNCH",
          "launch": {"task_infos": [{
            "name": "My Task",
            "task_id": {"value": "12220-3440-12532-my-task"},
            "agent_id": {"value": "12220-3440-12532-S1233"},
            "executor": {
              "command": {"shell": true, "value": "sleep 1000"},
              "executor_id": {"value": "12214-23523-my-executor"}
            },
            "resources": [
              {"allocation_info": {"role": "engineering"}, "name": "cpus", "role": "*",
               "type": "SCALAR", "scalar": {"value": 1.0}},
              {"allocation_info": {"role": "engineering"}, "name": "mem", "role": "*",
               "type": "SCALAR", "scalar": {"value": 128.0}}
            ],
            "limits": {"cpus": {"value": "Infinity"}, "mem": {"value": 512.0}}
          }]}
        }],
        "filters": {"refuse_seconds": 5.0}
      }
    }"#;
    let call: Call = json::from_str(text).unwrap();
    assert_eq!(call.r#type, Some(CallType::Accept));
    assert_eq!(
        call.framework_id.as_ref().unwrap().as_str(),
        "12220-3440-12532-2345"
    );
    assert_eq!(call.validate_shape(), Ok(()));
    let accept = call.accept.as_ref().unwrap();
    assert_eq!(accept.offer_ids[0].as_str(), "12220-3440-12532-O12");
    assert_eq!(accept.filters.unwrap().refuse_seconds, 5.0);
    let op = &accept.operations[0];
    assert_eq!(op.r#type, Some(OperationType::Launch));
    assert_eq!(op.validate_shape(), Ok(()));
    let task = &op.launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.name, "My Task");
    assert_eq!(task.task_id.as_str(), "12220-3440-12532-my-task");
    assert_eq!(task.agent_id.as_str(), "12220-3440-12532-S1233");
    let executor = task.executor.as_ref().unwrap();
    assert_eq!(executor.executor_id.as_str(), "12214-23523-my-executor");
    let command = executor.command.as_ref().unwrap();
    assert!(command.shell);
    assert_eq!(command.value.as_deref(), Some("sleep 1000"));
    assert_eq!(task.resources.len(), 2);
    assert_eq!(task.resources[1].name, "mem");
    assert_eq!(task.resources[1].scalar_value(), Some(128.0));
    assert_eq!(task.limits["cpus"].value, f64::INFINITY);
    assert_eq!(task.limits["mem"].value, 512.0);

    let out = json::to_value(&call).unwrap();
    let t = &out["accept"]["operations"][0]["launch"]["task_infos"][0];
    assert_eq!(
        t["executor"]["command"],
        json!({"shell": true, "value": "sleep 1000"})
    );
    assert_eq!(
        t["limits"],
        json!({"cpus": {"value": "Infinity"}, "mem": {"value": 512.0}})
    );
    assert_eq!(t["resources"][0]["role"], "*");
    assert_eq!(out["accept"]["filters"], json!({"refuse_seconds": 5.0}));
    assert_eq!(json::from_value::<Call>(out).unwrap(), call);

    let as_documented = text.replace(
        r#"{"cpus": {"value": "Infinity"}, "mem": {"value": 512.0}}"#,
        r#"{"cpus": "Infinity", "mem": 512.0}"#,
    );
    assert_ne!(as_documented, text);
    let err = json::from_str::<Call>(&as_documented).unwrap_err();
    assert!(
        err.to_string()
            .contains("accept.operations[0].launch.task_infos[0].limits"),
        "{err}"
    );
}

#[test]
fn acknowledge_call() {
    let text = r#"{
      "framework_id"	: {"value" : "12220-3440-12532-2345"},
      "type"			: "ACKNOWLEDGE",
      "acknowledge"		: {
        "agent_id"	:  {"value" : "12220-3440-12532-S1233"},
        "task_id"	:  {"value" : "12220-3440-12532-my-task"},
        "uuid"		:  "jhadf73jhakdlfha723adf"
      }
    }"#;
    let call: Call = json::from_str(text).unwrap();
    assert_eq!(call.r#type, Some(CallType::Acknowledge));
    let ack = call.acknowledge.as_ref().unwrap();
    assert_eq!(ack.agent_id.as_str(), "12220-3440-12532-S1233");
    assert_eq!(ack.task_id.as_str(), "12220-3440-12532-my-task");
    // 22 base64 characters without padding: a 16-byte UUID.
    assert_eq!(ack.uuid.len(), 16);
    assert_eq!(call.validate_shape(), Ok(()));
    let out = json::to_value(&call).unwrap();
    // Re-encoded canonically: padded, and the page's last character 'f'
    // carries 4 low bits that no byte holds (stout drops them too).
    assert_eq!(out["acknowledge"]["uuid"], "jhadf73jhakdlfha723adQ==");
    assert_eq!(
        out["framework_id"],
        json!({"value": "12220-3440-12532-2345"})
    );
    assert_eq!(json::from_value::<Call>(out).unwrap(), call);
}

#[test]
fn other_documented_calls() {
    let decline: Call = json::from_str(
        r#"{"framework_id": {"value": "12220-3440-12532-2345"}, "type": "DECLINE",
            "decline": {"offer_ids": [{"value": "12220-3440-12532-O12"},
                                      {"value": "12220-3440-12532-O13"}],
                        "filters": {"refuse_seconds": 5.0}}}"#,
    )
    .unwrap();
    assert_eq!(decline.decline.as_ref().unwrap().offer_ids.len(), 2);
    let kill: Call = json::from_str(
        r#"{"framework_id": {"value": "f"}, "type": "KILL", "kill": {
            "task_id": {"value": "12220-3440-12532-my-task"},
            "agent_id": {"value": "12220-3440-12532-S1233"}}}"#,
    )
    .unwrap();
    assert_eq!(
        kill.kill.as_ref().unwrap().task_id.as_str(),
        "12220-3440-12532-my-task"
    );
    let reconcile: Call = json::from_str(
        r#"{"framework_id": {"value": "f"}, "type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": "312325"}, "agent_id": {"value": "123535"}}]}}"#,
    )
    .unwrap();
    let tasks = &reconcile.reconcile.as_ref().unwrap().tasks;
    assert_eq!(tasks[0].agent_id.as_ref().unwrap().as_str(), "123535");
    let message: Call = json::from_str(
        r#"{"framework_id": {"value": "f"}, "type": "MESSAGE", "message": {
            "agent_id": {"value": "a"}, "executor_id": {"value": "my-framework-executor"},
            "data": "adaf838jahd748jnaldf"}}"#,
    )
    .unwrap();
    assert_eq!(message.message.as_ref().unwrap().data.len(), 15);
    let teardown: Call =
        json::from_str(r#"{"framework_id": {"value": "f"}, "type": "TEARDOWN"}"#).unwrap();
    for call in [decline, kill, reconcile, message, teardown] {
        assert_eq!(call.validate_shape(), Ok(()), "{call:?}");
        assert_eq!(
            json::from_value::<Call>(json::to_value(&call).unwrap()).unwrap(),
            call
        );
    }
}

#[test]
fn lenient_input_and_unknown_keys() {
    let text = r#"{
      "type": "SUBSCRIBE", "unknown_top": [1, 2],
      "subscribe": {
        "framework_info": {"user": "u", "name": "n", "failover_timeout": "604800",
                           "checkpoint": "true", "hostname": null, "future_field": {"x": 1},
                           "capabilities": [{"type": "TELEPATHY"}, {"type": "PARTITION_AWARE"}]},
        "suppressed_roles": null
      }
    }"#;
    let call: Call = json::from_str(text).unwrap();
    let info = &call.subscribe.as_ref().unwrap().framework_info;
    assert_eq!(info.failover_timeout, 604800.0);
    assert!(info.checkpoint);
    assert_eq!(info.hostname, None);
    assert_eq!(info.capabilities.len(), 2);
    assert_eq!(info.capabilities[0].r#type, None);
    assert!(info.has_capability(FrameworkCapabilityType::PartitionAware));

    let decline: Call = json::from_str(
        r#"{"framework_id": {"value": "f"}, "type": "DECLINE",
            "decline": {"offer_ids": [], "filters": {"refuse_seconds": "3600"}}}"#,
    )
    .unwrap();
    assert_eq!(
        decline.decline.unwrap().filters.unwrap().refuse_seconds,
        3600.0
    );

    let status: Event = json::from_str(
        r#"{"type": "UPDATE", "update": {"status": {"task_id": {"value": "t"},
            "state": "TASK_FAILED", "timestamp": "1.5", "healthy": "true",
            "container_status": {"executor_pid": "5"}}}}"#,
    )
    .unwrap();
    let s = status.update.unwrap().status;
    assert_eq!(s.timestamp, Some(1.5));
    assert_eq!(s.healthy, Some(true));
    assert_eq!(s.container_status.unwrap().executor_pid, Some(5));
}

#[test]
fn malformed_input_names_the_field() {
    let err = json::from_str::<Call>(
        r#"{"type": "SUBSCRIBE", "subscribe": {"framework_info": {"name": "n"}}}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("'subscribe.framework_info'"),
        "{err}"
    );
    assert!(err.to_string().contains("missing field `user`"), "{err}");
    let err = json::from_str::<Call>(
        r#"{"framework_id": {"value": "f"}, "type": "ACKNOWLEDGE", "acknowledge": {
            "agent_id": {"value": "a"}, "task_id": {"value": "t"}, "uuid": "not base64!"}}"#,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid JSON at 'acknowledge.uuid'"),
        "{err}"
    );
    let err = json::from_str::<Call>(r#"{"type": 1}"#).unwrap_err();
    assert!(
        err.to_string().starts_with("invalid JSON at 'type'"),
        "{err}"
    );
    let err = json::from_str::<Call>("[]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid JSON at '<root>': expected a JSON object"
    );
    assert!(json::from_str::<Call>("{").is_err());
    assert_eq!(Bytes::from("x").to_base64(), "eA==");
}
