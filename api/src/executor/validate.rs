//! Shape checks of a decoded executor `Call`, as Mesos' agent runs them
//! (`src/slave/validation.cpp`, `executor::call::validate`): the type, the
//! executor and framework ids and the payload are present; an UPDATE has a
//! 16-byte uuid, names no other executor, comes from SOURCE_EXECUTOR and
//! is not TASK_STAGING. A failure is a malformed call: 400 with the message.

use super::call::{Call, CallType};
use crate::v1::{Source, TaskState};

/// A call that is malformed for its type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// `type` is missing or not a known call.
    #[error("expecting 'type' to be present (SUBSCRIBE, UPDATE or MESSAGE)")]
    MissingType,
    /// A required field is absent.
    #[error("expecting '{0}' to be present")]
    Missing(&'static str),
    /// The update's uuid is not a UUID.
    #[error("'update.status.uuid' must be a 16-byte UUID, got {0} bytes")]
    InvalidUuid(usize),
    /// The update names another executor.
    #[error("executor id in the call ({call}) does not match the one in the status ({status})")]
    ExecutorMismatch {
        /// The call's executor id.
        call: String,
        /// The status' executor id.
        status: String,
    },
    /// The update's source is not SOURCE_EXECUTOR.
    #[error("an update from an executor must have source SOURCE_EXECUTOR, not {0}")]
    Source(String),
    /// Executors may not send TASK_STAGING.
    #[error("TASK_STAGING is not allowed from an executor")]
    Staging,
}

impl Call {
    /// Checks the call's shape; see the module doc.
    pub fn validate(&self) -> Result<(), CallError> {
        let kind = match self.r#type {
            None | Some(CallType::Unknown) => return Err(CallError::MissingType),
            Some(k) => k,
        };
        let executor_id = self
            .executor_id
            .as_ref()
            .ok_or(CallError::Missing("executor_id"))?;
        self.framework_id
            .as_ref()
            .ok_or(CallError::Missing("framework_id"))?;
        match kind {
            CallType::Subscribe => {
                self.subscribe
                    .as_ref()
                    .ok_or(CallError::Missing("subscribe"))?;
            }
            CallType::Message => {
                self.message.as_ref().ok_or(CallError::Missing("message"))?;
            }
            CallType::Update => {
                let status = &self
                    .update
                    .as_ref()
                    .ok_or(CallError::Missing("update"))?
                    .status;
                let uuid = status
                    .uuid
                    .as_ref()
                    .ok_or(CallError::Missing("update.status.uuid"))?;
                if uuid.as_slice().len() != 16 {
                    return Err(CallError::InvalidUuid(uuid.as_slice().len()));
                }
                if let Some(e) = &status.executor_id
                    && e != executor_id
                {
                    return Err(CallError::ExecutorMismatch {
                        call: executor_id.to_string(),
                        status: e.to_string(),
                    });
                }
                // Unset is SOURCE_MASTER in protobuf, as Mesos reads it.
                let source = status.source.unwrap_or(Source::Master);
                if source != Source::Executor {
                    return Err(CallError::Source(source.to_string()));
                }
                if status.state == TaskState::Staging {
                    return Err(CallError::Staging);
                }
            }
            CallType::Unknown => unreachable!("refused above"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Call {
        crate::json::from_str(text).unwrap()
    }

    fn update(status: &str) -> Call {
        parse(&format!(
            r#"{{"type":"UPDATE","executor_id":{{"value":"e"}},"framework_id":{{"value":"f"}},
                "update":{{"status":{status}}}}}"#
        ))
    }

    const UUID: &str = r#""AAECAwQFBgcICQoLDA0ODw==""#;

    #[test]
    fn well_formed_calls_pass() {
        let sub = parse(
            r#"{"type":"SUBSCRIBE","executor_id":{"value":"e"},"framework_id":{"value":"f"},"subscribe":{}}"#,
        );
        assert_eq!(sub.validate(), Ok(()));
        let ok = update(&format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":{UUID}}}"#
        ));
        assert_eq!(ok.validate(), Ok(()));
        let msg = parse(
            r#"{"type":"MESSAGE","executor_id":{"value":"e"},"framework_id":{"value":"f"},"message":{"data":"aGk="}}"#,
        );
        assert_eq!(msg.validate(), Ok(()));
    }

    #[test]
    fn malformed_calls_are_named() {
        assert_eq!(parse("{}").validate(), Err(CallError::MissingType));
        assert_eq!(
            parse(r#"{"type":"SUBSCRIBE","framework_id":{"value":"f"},"subscribe":{}}"#).validate(),
            Err(CallError::Missing("executor_id"))
        );
        assert_eq!(
            parse(r#"{"type":"SUBSCRIBE","executor_id":{"value":"e"},"subscribe":{}}"#).validate(),
            Err(CallError::Missing("framework_id"))
        );
        assert_eq!(
            parse(r#"{"type":"MESSAGE","executor_id":{"value":"e"},"framework_id":{"value":"f"}}"#)
                .validate(),
            Err(CallError::Missing("message"))
        );
        let no_uuid = update(
            r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR"}"#,
        );
        assert_eq!(
            no_uuid.validate(),
            Err(CallError::Missing("update.status.uuid"))
        );
        let short = update(
            r#"{"task_id":{"value":"t"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","uuid":"AQID"}"#,
        );
        assert_eq!(short.validate(), Err(CallError::InvalidUuid(3)));
        let other = update(&format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","executor_id":{{"value":"x"}},"uuid":{UUID}}}"#
        ));
        assert!(matches!(
            other.validate(),
            Err(CallError::ExecutorMismatch { .. })
        ));
        let no_source = update(&format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_RUNNING","uuid":{UUID}}}"#
        ));
        assert_eq!(
            no_source.validate().unwrap_err().to_string(),
            "an update from an executor must have source SOURCE_EXECUTOR, not SOURCE_MASTER"
        );
        let staging = update(&format!(
            r#"{{"task_id":{{"value":"t"}},"state":"TASK_STAGING","source":"SOURCE_EXECUTOR","uuid":{UUID}}}"#
        ));
        assert_eq!(staging.validate(), Err(CallError::Staging));
    }
}
