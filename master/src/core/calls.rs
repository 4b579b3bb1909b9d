//! The scheduler calls other than SUBSCRIBE: the caller is checked the way
//! Mesos checks it (a known framework, subscribed, on its own stream:
//! 400, 403, 400), then the call is applied. Calls are answered 202 once
//! accepted; what fails later is reported on the stream.

use super::{CallError, Master};
use crate::allocator::Allocator;
use corral_api::FrameworkId;
use corral_api::agent_link::AgentEvent;
use corral_api::scheduler::{Call, CallType};
use std::time::Instant;

impl Master {
    pub(super) fn call(
        &mut self,
        call: Call,
        stream_id: Option<&str>,
        now: Instant,
    ) -> Result<(), CallError> {
        call.validate_shape()
            .map_err(|e| CallError::bad_request(e.to_string()))?;
        let id = call
            .framework_id
            .clone()
            .ok_or_else(|| CallError::bad_request("expecting 'framework_id' to be present"))?;
        self.check_caller(&id, stream_id)?;
        let Some(kind) = call.r#type else {
            return Err(CallError::bad_request("expecting 'type' to be present"));
        };
        match kind {
            CallType::Subscribe => {
                return Err(CallError::bad_request(
                    "SUBSCRIBE is sent without a Mesos-Stream-Id",
                ));
            }
            CallType::Teardown => self.remove_framework(&id, now),
            CallType::Accept => self.accept(&id, call.accept.expect("shape checked"), now),
            CallType::Decline => {
                let d = call.decline.expect("shape checked");
                self.decline(&id, &d.offer_ids, d.filters.map(|f| f.refuse_seconds), now);
            }
            CallType::Revive => {
                self.revive(&id, call.revive.map(|r| r.roles).unwrap_or_default())?
            }
            CallType::Suppress => {
                self.suppress(&id, call.suppress.map(|r| r.roles).unwrap_or_default())?
            }
            CallType::Kill => self.kill(&id, call.kill.expect("shape checked"), now),
            CallType::Shutdown => {
                let s = call.shutdown.expect("shape checked");
                self.to_agent(
                    &s.agent_id,
                    &AgentEvent::ShutdownExecutor {
                        framework_id: id,
                        executor_id: s.executor_id,
                    },
                );
            }
            CallType::Acknowledge => {
                self.acknowledge(&id, call.acknowledge.expect("shape checked"))?
            }
            CallType::Reconcile => {
                self.reconcile(&id, call.reconcile.map(|r| r.tasks).unwrap_or_default())
            }
            CallType::UpdateFramework => {
                let u = call.update_framework.expect("shape checked");
                self.update_framework(&id, u.framework_info)?;
            }
            // No inverse offers are ever made; REQUEST is a no-op in Mesos.
            CallType::AcceptInverseOffers | CallType::DeclineInverseOffers | CallType::Request => {}
            CallType::Message => {
                let msg = call.message.expect("shape checked");
                if !self.agents.contains_key(&msg.agent_id) {
                    return Err(CallError::bad_request(format!(
                        "agent '{}' is not known",
                        msg.agent_id
                    )));
                }
                // Best effort, as in Mesos: a message to a disconnected
                // agent is dropped.
                self.to_agent(
                    &msg.agent_id,
                    &AgentEvent::FrameworkMessage {
                        framework_id: id,
                        executor_id: msg.executor_id,
                        data: msg.data,
                    },
                );
            }
            CallType::AcknowledgeOperationStatus | CallType::ReconcileOperations => {
                return Err(CallError::bad_request(format!(
                    "{} is not supported: corral makes no offer operations with feedback",
                    corral_api::json::ProtoEnum::name(kind)
                )));
            }
            CallType::Unknown => return Err(CallError::bad_request("unknown call type")),
        }
        Ok(())
    }

    /// Mesos' order of checks on a non-SUBSCRIBE call.
    fn check_caller(&self, id: &FrameworkId, stream_id: Option<&str>) -> Result<(), CallError> {
        let f = self
            .frameworks
            .get(id)
            .ok_or_else(|| CallError::bad_request(format!("framework '{id}' is not known")))?;
        let Some(stream) = &f.stream else {
            return Err(CallError::forbidden(format!(
                "framework '{id}' is not subscribed"
            )));
        };
        match stream_id {
            None => Err(CallError::bad_request(
                "all non-subscribe calls should include the 'Mesos-Stream-Id' header",
            )),
            Some(s) if s != stream.id => Err(CallError::bad_request(format!(
                "the stream id '{s}' is not the framework's current stream"
            ))),
            Some(_) => Ok(()),
        }
    }

    fn revive(&mut self, id: &FrameworkId, roles: Vec<String>) -> Result<(), CallError> {
        let key = self.frameworks[id].key;
        if roles.is_empty() {
            self.allocator
                .revive(key, None)
                .map_err(|e| CallError::bad_request(e.to_string()))?;
        }
        for r in &roles {
            self.allocator
                .revive(key, Some(r))
                .map_err(|e| CallError::bad_request(e.to_string()))?;
        }
        self.request_allocation();
        Ok(())
    }

    fn suppress(&mut self, id: &FrameworkId, roles: Vec<String>) -> Result<(), CallError> {
        let key = self.frameworks[id].key;
        if roles.is_empty() {
            self.allocator
                .suppress(key, None)
                .map_err(|e| CallError::bad_request(e.to_string()))?;
        }
        for r in &roles {
            self.allocator
                .suppress(key, Some(r))
                .map_err(|e| CallError::bad_request(e.to_string()))
                .map(drop)?;
        }
        Ok(())
    }

    fn update_framework(
        &mut self,
        id: &FrameworkId,
        info: corral_api::v1::FrameworkInfo,
    ) -> Result<(), CallError> {
        if info.id.as_ref().is_some_and(|i| i != id) {
            return Err(CallError::bad_request(
                "framework_info.id is not the caller's",
            ));
        }
        let f = self.frameworks.get_mut(id).expect("checked");
        if info.effective_roles() != f.info.effective_roles() {
            return Err(CallError::bad_request(
                "changing a framework's roles is not supported by corral yet",
            ));
        }
        f.info = corral_api::v1::FrameworkInfo {
            id: Some(id.clone()),
            ..info
        };
        Ok(())
    }
}
