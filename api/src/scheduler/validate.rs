//! Shape checks of a decoded `Call`, as Mesos' master runs them before
//! acting (`src/master/validation.cpp`, `scheduler::call::validate`): the
//! type is set, the sub-object it needs is present, `framework_id` is set
//! (and agrees with the framework info), acknowledged UUIDs are 16 bytes.
//! A failure is a malformed call: the master answers 400 with the message.

use super::call::{Call, CallType};
use crate::ids::FrameworkId;

/// A call that is malformed for its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// `type` is missing or not a known call.
    #[error("call has no 'type' (or an unknown one)")]
    MissingType,
    /// The sub-object the type needs is absent.
    #[error("call of type {call} has no '{field}' object")]
    MissingObject {
        /// The call type.
        call: CallType,
        /// The absent field.
        field: &'static str,
    },
    /// A call other than SUBSCRIBE without `framework_id`.
    #[error("call of type {call} has no 'framework_id'")]
    MissingFrameworkId {
        /// The call type.
        call: CallType,
    },
    /// `framework_id` and the framework info's id disagree.
    #[error("'framework_id' differs from '{field}'")]
    FrameworkIdMismatch {
        /// The framework info id field compared.
        field: &'static str,
    },
    /// An acknowledged `uuid` is not 16 bytes.
    #[error("'{field}' must be a 16-byte UUID, got {len} bytes")]
    InvalidUuid {
        /// The uuid field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
    /// ACKNOWLEDGE_OPERATION_STATUS without an agent id.
    #[error(
        "call of type ACKNOWLEDGE_OPERATION_STATUS has no 'acknowledge_operation_status.agent_id'"
    )]
    MissingAgentId,
}

impl CallType {
    /// The sub-object carrying this call's payload, if it has one.
    pub const fn payload_field(self) -> Option<&'static str> {
        Some(match self {
            CallType::Unknown | CallType::Teardown => return None,
            CallType::Subscribe => "subscribe",
            CallType::Accept => "accept",
            CallType::Decline => "decline",
            CallType::AcceptInverseOffers => "accept_inverse_offers",
            CallType::DeclineInverseOffers => "decline_inverse_offers",
            CallType::Revive => "revive",
            CallType::Kill => "kill",
            CallType::Shutdown => "shutdown",
            CallType::Acknowledge => "acknowledge",
            CallType::AcknowledgeOperationStatus => "acknowledge_operation_status",
            CallType::Reconcile => "reconcile",
            CallType::ReconcileOperations => "reconcile_operations",
            CallType::Message => "message",
            CallType::Request => "request",
            CallType::Suppress => "suppress",
            CallType::UpdateFramework => "update_framework",
        })
    }
}

const UUID_LEN: usize = 16;

fn id_str(id: Option<&FrameworkId>) -> &str {
    id.map_or("", FrameworkId::as_str)
}

impl Call {
    /// Whether the sub-object for `t` is present (REVIVE and SUPPRESS may
    /// omit theirs; UNKNOWN and TEARDOWN have none).
    fn has_payload(&self, t: CallType) -> bool {
        match t {
            CallType::Unknown | CallType::Teardown | CallType::Revive | CallType::Suppress => true,
            CallType::Subscribe => self.subscribe.is_some(),
            CallType::Accept => self.accept.is_some(),
            CallType::Decline => self.decline.is_some(),
            CallType::AcceptInverseOffers => self.accept_inverse_offers.is_some(),
            CallType::DeclineInverseOffers => self.decline_inverse_offers.is_some(),
            CallType::Kill => self.kill.is_some(),
            CallType::Shutdown => self.shutdown.is_some(),
            CallType::Acknowledge => self.acknowledge.is_some(),
            CallType::AcknowledgeOperationStatus => self.acknowledge_operation_status.is_some(),
            CallType::Reconcile => self.reconcile.is_some(),
            CallType::ReconcileOperations => self.reconcile_operations.is_some(),
            CallType::Message => self.message.is_some(),
            CallType::Request => self.request.is_some(),
            CallType::UpdateFramework => self.update_framework.is_some(),
        }
    }

    /// Checks the call's shape (see the module doc); `Ok` does not mean the
    /// call is valid against the master's state.
    pub fn validate_shape(&self) -> Result<(), CallError> {
        let call = self.r#type.ok_or(CallError::MissingType)?;
        if !self.has_payload(call) {
            let field = call.payload_field().unwrap_or("type");
            return Err(CallError::MissingObject { call, field });
        }
        if let Some(subscribe) = &self.subscribe
            && call == CallType::Subscribe
        {
            // Unset ids compare equal to empty ones, as proto messages do.
            if id_str(subscribe.framework_info.id.as_ref()) != id_str(self.framework_id.as_ref()) {
                return Err(CallError::FrameworkIdMismatch {
                    field: "subscribe.framework_info.id",
                });
            }
            return Ok(());
        }
        if self.framework_id.is_none() {
            return Err(CallError::MissingFrameworkId { call });
        }
        if let (CallType::UpdateFramework, Some(update)) = (call, &self.update_framework)
            && id_str(update.framework_info.id.as_ref()) != id_str(self.framework_id.as_ref())
        {
            return Err(CallError::FrameworkIdMismatch {
                field: "update_framework.framework_info.id",
            });
        }
        if let (CallType::Acknowledge, Some(ack)) = (call, &self.acknowledge)
            && ack.uuid.len() != UUID_LEN
        {
            return Err(CallError::InvalidUuid {
                field: "acknowledge.uuid",
                len: ack.uuid.len(),
            });
        }
        if let (CallType::AcknowledgeOperationStatus, Some(ack)) =
            (call, &self.acknowledge_operation_status)
        {
            if ack.uuid.len() != UUID_LEN {
                return Err(CallError::InvalidUuid {
                    field: "acknowledge_operation_status.uuid",
                    len: ack.uuid.len(),
                });
            }
            if ack.agent_id.is_none() {
                return Err(CallError::MissingAgentId);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn check(text: &str) -> Result<(), CallError> {
        json::from_str::<Call>(text).unwrap().validate_shape()
    }

    #[test]
    fn missing_type_and_payloads() {
        assert_eq!(
            check(r#"{"framework_id":{"value":"f"}}"#),
            Err(CallError::MissingType)
        );
        assert_eq!(
            check(r#"{"type":"LAUNCH_ROCKETS"}"#),
            Err(CallError::MissingType)
        );
        let err = check(r#"{"framework_id":{"value":"f"},"type":"ACCEPT"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "call of type ACCEPT has no 'accept' object"
        );
        let err = check(r#"{"type":"SUBSCRIBE"}"#).unwrap_err();
        assert_eq!(
            err,
            CallError::MissingObject {
                call: CallType::Subscribe,
                field: "subscribe"
            }
        );
        for (t, field) in [("KILL", "kill"), ("UPDATE_FRAMEWORK", "update_framework")] {
            let text = format!(r#"{{"framework_id":{{"value":"f"}},"type":"{t}"}}"#);
            let err = check(&text).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("call of type {t} has no '{field}' object")
            );
        }
    }

    #[test]
    fn optional_payloads_and_framework_id() {
        assert_eq!(
            check(r#"{"framework_id":{"value":"f"},"type":"REVIVE"}"#),
            Ok(())
        );
        assert_eq!(
            check(r#"{"framework_id":{"value":"f"},"type":"SUPPRESS"}"#),
            Ok(())
        );
        assert_eq!(
            check(r#"{"framework_id":{"value":"f"},"type":"TEARDOWN"}"#),
            Ok(())
        );
        let err = check(r#"{"type":"TEARDOWN"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "call of type TEARDOWN has no 'framework_id'"
        );
    }

    #[test]
    fn subscribe_ids_must_agree() {
        let fi = r#""framework_info":{"user":"u","name":"n""#;
        assert_eq!(
            check(&format!(r#"{{"type":"SUBSCRIBE","subscribe":{{{fi}}}}}}}"#)),
            Ok(())
        );
        let resub = format!(
            r#"{{"type":"SUBSCRIBE","framework_id":{{"value":"f"}},
                "subscribe":{{{fi},"id":{{"value":"f"}}}}}}}}"#
        );
        assert_eq!(check(&resub), Ok(()));
        let mismatch = format!(
            r#"{{"type":"SUBSCRIBE","framework_id":{{"value":"f"}},"subscribe":{{{fi}}}}}}}"#
        );
        assert_eq!(
            check(&mismatch).unwrap_err().to_string(),
            "'framework_id' differs from 'subscribe.framework_info.id'"
        );
        let update = format!(
            r#"{{"type":"UPDATE_FRAMEWORK","framework_id":{{"value":"f"}},
                "update_framework":{{{fi},"id":{{"value":"g"}}}}}}}}"#
        );
        assert_eq!(
            check(&update),
            Err(CallError::FrameworkIdMismatch {
                field: "update_framework.framework_info.id"
            })
        );
    }

    #[test]
    fn acknowledgement_uuids_are_16_bytes() {
        let ack = |uuid: &str| {
            format!(
                r#"{{"type":"ACKNOWLEDGE","framework_id":{{"value":"f"}},"acknowledge":{{
                    "agent_id":{{"value":"a"}},"task_id":{{"value":"t"}},"uuid":"{uuid}"}}}}"#
            )
        };
        assert_eq!(check(&ack("AAECAwQFBgcICQoLDA0ODw==")), Ok(()));
        assert_eq!(
            check(&ack("AAEC")).unwrap_err().to_string(),
            "'acknowledge.uuid' must be a 16-byte UUID, got 3 bytes"
        );
        let op = r#"{"type":"ACKNOWLEDGE_OPERATION_STATUS","framework_id":{"value":"f"},
            "acknowledge_operation_status":{"uuid":"AAECAwQFBgcICQoLDA0ODw==",
            "operation_id":{"value":"o"}}}"#;
        assert_eq!(check(op), Err(CallError::MissingAgentId));
    }

    #[test]
    fn every_type_with_a_payload_names_it() {
        for t in CallType::ALL {
            let field = t.payload_field();
            match t {
                CallType::Unknown | CallType::Teardown => assert_eq!(field, None),
                _ => assert_eq!(field, Some(t.name().to_ascii_lowercase()).as_deref()),
            }
        }
    }
}
