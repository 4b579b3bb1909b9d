//! Frameworks: SUBSCRIBE (new, or failover with an existing id), the loss of
//! a framework's stream (its tasks keep running for `failover_timeout`),
//! expiry and TEARDOWN (its offers recovered, its tasks killed), and the
//! HEARTBEAT events on every stream.

use super::{CallError, Framework, Master, Stream, Subscription};
use crate::allocator::{Allocator, Capabilities, FrameworkSpec, RoleName};
use corral_api::FrameworkId;
use corral_api::agent_link::AgentEvent;
use corral_api::scheduler::{Call, Event};
use corral_api::v1::{FrameworkCapabilityType, FrameworkInfo};
use std::time::{Duration, Instant};

impl Master {
    pub(super) fn subscribe(
        &mut self,
        call: Call,
        now: Instant,
    ) -> Result<Subscription, CallError> {
        let sub = call
            .subscribe
            .ok_or_else(|| CallError::bad_request("SUBSCRIBE call has no 'subscribe' object"))?;
        let mut info = sub.framework_info;
        if let (Some(a), Some(b)) = (&call.framework_id, &info.id)
            && a != b
        {
            return Err(CallError::bad_request(format!(
                "framework_id '{a}' differs from framework_info.id '{b}'"
            )));
        }
        let roles = self.validate_framework(&info)?;
        let suppressed = sub.suppressed_roles;
        if let Some(r) = suppressed.iter().find(|r| !roles.contains(r)) {
            return Err(CallError::bad_request(format!(
                "suppressed role '{r}' is not one of the framework's roles"
            )));
        }
        let id = match info.id.clone().or(call.framework_id) {
            Some(id) => id,
            None => FrameworkId::new(self.next_id("")),
        };
        info.id = Some(id.clone());
        let (stream, records) = Stream::open();
        let stream_id = stream.id.clone();
        if self.frameworks.contains_key(&id) {
            self.failover(&id, info, stream, now)?;
        } else {
            let spec = FrameworkSpec {
                roles: roles.clone(),
                suppressed_roles: suppressed,
                capabilities: Capabilities {
                    gpu_resources: info.has_capability(FrameworkCapabilityType::GpuResources),
                },
                active: true,
            };
            let key = self
                .allocator
                .add_framework(&spec)
                .map_err(|e| CallError::bad_request(e.to_string()))?;
            self.framework_keys.insert(key, id.clone());
            self.frameworks.insert(
                id.clone(),
                Framework {
                    info,
                    key,
                    stream: Some(stream),
                    failover_deadline: None,
                    next_heartbeat: now,
                    offers: Default::default(),
                    registered_at: Master::wall_now(),
                },
            );
        }
        let interval = self.config.heartbeat_interval.as_secs_f64();
        let hello = Event::subscribed(id.clone(), interval, Some(self.info.clone()));
        self.to_framework(&id, &hello);
        // The first heartbeat right away, as Mesos does.
        self.to_framework(&id, &Event::heartbeat());
        if let Some(f) = self.frameworks.get_mut(&id) {
            f.next_heartbeat = now + self.config.heartbeat_interval;
        }
        self.request_allocation();
        let durable = self.persist_framework(&id);
        let closed = super::Closed::Framework(id, stream_id.clone());
        Ok(Subscription {
            stream_id,
            records,
            closed,
            durable,
        })
    }

    /// The framework's roles, checked (Mesos: `role` xor `roles`, the
    /// latter with MULTI_ROLE; names valid; allowed by `--roles`).
    fn validate_framework(&self, info: &FrameworkInfo) -> Result<Vec<String>, CallError> {
        if info.user.is_empty() {
            return Err(CallError::bad_request("framework_info.user is required"));
        }
        if info.name.is_empty() {
            return Err(CallError::bad_request("framework_info.name is required"));
        }
        let multi = info.has_capability(FrameworkCapabilityType::MultiRole);
        if !info.roles.is_empty() && !multi {
            return Err(CallError::bad_request(
                "framework_info.roles needs the MULTI_ROLE capability (or use 'role')",
            ));
        }
        if info.role.is_some() && multi {
            return Err(CallError::bad_request(
                "a MULTI_ROLE framework sets 'roles', not 'role'",
            ));
        }
        let roles = info.effective_roles();
        for role in &roles {
            RoleName::new(role).map_err(|e| CallError::bad_request(e.to_string()))?;
            if let Some(allowed) = &self.config.roles
                && !allowed.contains(role)
            {
                return Err(CallError::bad_request(format!(
                    "role '{role}' is not allowed (--roles: {})",
                    allowed.join(",")
                )));
            }
        }
        Ok(roles)
    }

    /// A known framework subscribes again: the new stream replaces the old
    /// one (which is told and closed), its offers are recovered.
    fn failover(
        &mut self,
        id: &FrameworkId,
        info: FrameworkInfo,
        stream: Stream,
        now: Instant,
    ) -> Result<(), CallError> {
        self.remove_offers_of(id, now, false);
        let f = self.frameworks.get_mut(id).expect("checked by the caller");
        if f.info.effective_roles() != info.effective_roles() {
            return Err(CallError::bad_request(
                "changing a framework's roles on re-subscription is not supported yet: \
                 subscribe with the same roles",
            ));
        }
        if let Some(old) = f.stream.take() {
            old.send(&Event::error("Framework failed over"));
        }
        f.info = info;
        f.stream = Some(stream);
        f.failover_deadline = None;
        let key = f.key;
        let _ = self.allocator.activate_framework(key);
        Ok(())
    }

    pub(super) fn framework_disconnected(&mut self, id: &FrameworkId, stream: &str, now: Instant) {
        let Some(f) = self.frameworks.get_mut(id) else {
            return;
        };
        if f.stream.as_ref().is_none_or(|s| s.id != stream) {
            return; // An older stream, replaced by a failover.
        }
        f.stream = None;
        let timeout = Duration::try_from_secs_f64(f.info.failover_timeout.max(0.0))
            .unwrap_or(Duration::MAX / 4);
        f.failover_deadline = Some(now + timeout);
        let key = f.key;
        let _ = self.allocator.deactivate_framework(key);
        self.remove_offers_of(id, now, false);
        self.persist_framework(id);
    }

    pub(super) fn expire_frameworks(&mut self, now: Instant) {
        let expired: Vec<FrameworkId> = self
            .frameworks
            .iter()
            .filter(|(_, f)| f.failover_deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove_framework(&id, now);
        }
    }

    /// TEARDOWN or failover timeout: offers recovered, every task killed
    /// (the agents are told), the framework forgotten.
    pub(crate) fn remove_framework(&mut self, id: &FrameworkId, now: Instant) {
        self.remove_offers_of(id, now, false);
        let with_executors = self
            .agents
            .iter()
            .filter(|(_, a)| a.executors.keys().any(|(f, _)| f == id))
            .map(|(agent, _)| agent.clone());
        let agents: std::collections::BTreeSet<_> = self
            .tasks
            .iter()
            .filter(|((f, _), _)| f == id)
            .map(|(_, t)| t.task.agent_id.clone())
            .chain(with_executors)
            .collect();
        for agent in agents {
            self.to_agent(
                &agent,
                &AgentEvent::ShutdownFramework {
                    framework_id: id.clone(),
                },
            );
        }
        let keys: Vec<_> = self
            .tasks
            .keys()
            .filter(|(f, _)| f == id)
            .cloned()
            .collect();
        for k in keys {
            if let Some(t) = self.tasks.remove(&k)
                && let Some(a) = self.agents.get_mut(&t.task.agent_id)
            {
                a.tasks.remove(&k);
            }
        }
        self.forget_executors_of(id);
        self.unpersist_framework(id);
        if let Some(f) = self.frameworks.remove(id) {
            self.framework_keys.remove(&f.key);
            let _ = self.allocator.remove_framework(f.key);
            if let Some(s) = f.stream {
                s.send(&Event::error("Framework removed"));
            }
        }
    }

    pub(super) fn heartbeats(&mut self, now: Instant) {
        let every = self.config.heartbeat_interval;
        for f in self.frameworks.values_mut() {
            if let Some(s) = &f.stream
                && f.next_heartbeat <= now
            {
                s.send(&Event::heartbeat());
                f.next_heartbeat = now + every;
            }
        }
        for a in self.agents.values_mut() {
            if let Some(s) = &a.stream
                && a.next_heartbeat <= now
            {
                s.send(&AgentEvent::Heartbeat);
                a.next_heartbeat = now + every.min(self.config.agent_ping_timeout);
            }
        }
    }
}
