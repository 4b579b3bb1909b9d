//! Constructors for the common `Call`s, each setting `type`, the matching
//! sub-object and (except a first SUBSCRIBE) `framework_id`; for schedulers
//! written in Rust and for tests.

use super::call::{
    Accept, Acknowledge, Call, CallType, Decline, Kill, Message, Reconcile, ReconcileTask, Roles,
    Shutdown, Subscribe,
};
use crate::ids::{AgentId, ExecutorId, FrameworkId, OfferId, TaskId};
use crate::json::Bytes;
use crate::v1::{Filters, FrameworkInfo, OfferOperation};

impl Call {
    fn of(t: CallType, framework_id: FrameworkId) -> Self {
        Call {
            framework_id: Some(framework_id),
            r#type: Some(t),
            ..Call::default()
        }
    }

    /// SUBSCRIBE; `framework_id` is copied from `framework_info.id` when set
    /// (resubscription).
    pub fn subscribe(framework_info: FrameworkInfo) -> Self {
        Call {
            framework_id: framework_info.id.clone(),
            r#type: Some(CallType::Subscribe),
            subscribe: Some(Subscribe {
                framework_info,
                ..Subscribe::default()
            }),
            ..Call::default()
        }
    }

    /// TEARDOWN.
    pub fn teardown(framework_id: FrameworkId) -> Self {
        Call::of(CallType::Teardown, framework_id)
    }

    /// ACCEPT.
    pub fn accept(
        framework_id: FrameworkId,
        offer_ids: Vec<OfferId>,
        operations: Vec<OfferOperation>,
        filters: Option<Filters>,
    ) -> Self {
        Call {
            accept: Some(Accept {
                offer_ids,
                operations,
                filters,
            }),
            ..Call::of(CallType::Accept, framework_id)
        }
    }

    /// DECLINE.
    pub fn decline(
        framework_id: FrameworkId,
        offer_ids: Vec<OfferId>,
        filters: Option<Filters>,
    ) -> Self {
        Call {
            decline: Some(Decline { offer_ids, filters }),
            ..Call::of(CallType::Decline, framework_id)
        }
    }

    /// REVIVE of `roles` (empty = all).
    pub fn revive(framework_id: FrameworkId, roles: Vec<String>) -> Self {
        Call {
            revive: Some(Roles { roles }),
            ..Call::of(CallType::Revive, framework_id)
        }
    }

    /// SUPPRESS of `roles` (empty = all).
    pub fn suppress(framework_id: FrameworkId, roles: Vec<String>) -> Self {
        Call {
            suppress: Some(Roles { roles }),
            ..Call::of(CallType::Suppress, framework_id)
        }
    }

    /// KILL.
    pub fn kill(framework_id: FrameworkId, task_id: TaskId, agent_id: Option<AgentId>) -> Self {
        Call {
            kill: Some(Kill {
                task_id,
                agent_id,
                kill_policy: None,
            }),
            ..Call::of(CallType::Kill, framework_id)
        }
    }

    /// SHUTDOWN.
    pub fn shutdown(framework_id: FrameworkId, executor_id: ExecutorId, agent_id: AgentId) -> Self {
        Call {
            shutdown: Some(Shutdown {
                executor_id,
                agent_id,
            }),
            ..Call::of(CallType::Shutdown, framework_id)
        }
    }

    /// ACKNOWLEDGE of a status update's `uuid`.
    pub fn acknowledge(
        framework_id: FrameworkId,
        agent_id: AgentId,
        task_id: TaskId,
        uuid: Bytes,
    ) -> Self {
        Call {
            acknowledge: Some(Acknowledge {
                agent_id,
                task_id,
                uuid,
            }),
            ..Call::of(CallType::Acknowledge, framework_id)
        }
    }

    /// RECONCILE of `tasks` (empty = implicit reconciliation of all).
    pub fn reconcile(framework_id: FrameworkId, tasks: Vec<ReconcileTask>) -> Self {
        Call {
            reconcile: Some(Reconcile { tasks }),
            ..Call::of(CallType::Reconcile, framework_id)
        }
    }

    /// MESSAGE to an executor.
    pub fn message(
        framework_id: FrameworkId,
        agent_id: AgentId,
        executor_id: ExecutorId,
        data: Bytes,
    ) -> Self {
        Call {
            message: Some(Message {
                agent_id,
                executor_id,
                data,
            }),
            ..Call::of(CallType::Message, framework_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructed_calls_pass_shape_validation() {
        let f = || FrameworkId::new("f");
        let uuid = Bytes::new(vec![7u8; 16]);
        let calls = [
            Call::subscribe(FrameworkInfo::new("u", "n")),
            Call::teardown(f()),
            Call::accept(
                f(),
                vec![OfferId::new("o")],
                vec![OfferOperation::launch(vec![])],
                None,
            ),
            Call::decline(f(), vec![OfferId::new("o")], Some(Filters::default())),
            Call::revive(f(), vec![]),
            Call::suppress(f(), vec!["r".into()]),
            Call::kill(f(), TaskId::new("t"), None),
            Call::shutdown(f(), ExecutorId::new("e"), AgentId::new("a")),
            Call::acknowledge(f(), AgentId::new("a"), TaskId::new("t"), uuid),
            Call::reconcile(f(), vec![]),
            Call::message(
                f(),
                AgentId::new("a"),
                ExecutorId::new("e"),
                Bytes::from("x"),
            ),
        ];
        for call in calls {
            assert_eq!(call.validate_shape(), Ok(()), "{call:?}");
        }
    }

    #[test]
    fn resubscribe_carries_the_framework_id() {
        let mut info = FrameworkInfo::new("u", "n");
        info.id = Some(FrameworkId::new("f"));
        let call = Call::subscribe(info);
        assert_eq!(call.framework_id, Some(FrameworkId::new("f")));
        assert_eq!(call.validate_shape(), Ok(()));
    }
}
