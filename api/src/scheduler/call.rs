//! `mesos.v1.scheduler.Call`: what a scheduler POSTs to
//! `/api/v1/scheduler`. `type` names the call; the payload is in the
//! sub-object named after the lower-cased type (`accept` for ACCEPT).
//! Shape checks are in `validate.rs`, constructors in `constructors.rs`.

use serde::{Deserialize, Serialize};

use crate::ids::{
    AgentId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
use crate::json::{self, Bytes, enums::proto_enum};
use crate::v1::{Filters, FrameworkInfo, KillPolicy, OfferOperation, Request};

proto_enum! {
    /// `Call.Type`.
    pub enum CallType {
        Unknown = 0 => "UNKNOWN",
        Subscribe = 1 => "SUBSCRIBE",
        Teardown = 2 => "TEARDOWN",
        Accept = 3 => "ACCEPT",
        Decline = 4 => "DECLINE",
        AcceptInverseOffers = 13 => "ACCEPT_INVERSE_OFFERS",
        DeclineInverseOffers = 14 => "DECLINE_INVERSE_OFFERS",
        Revive = 5 => "REVIVE",
        Kill = 6 => "KILL",
        Shutdown = 7 => "SHUTDOWN",
        Acknowledge = 8 => "ACKNOWLEDGE",
        AcknowledgeOperationStatus = 15 => "ACKNOWLEDGE_OPERATION_STATUS",
        Reconcile = 9 => "RECONCILE",
        ReconcileOperations = 16 => "RECONCILE_OPERATIONS",
        Message = 10 => "MESSAGE",
        Request = 11 => "REQUEST",
        Suppress = 12 => "SUPPRESS",
        UpdateFramework = 17 => "UPDATE_FRAMEWORK",
    }
}

/// `Call.Subscribe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscribe {
    /// The framework.
    pub framework_info: FrameworkInfo,
    /// Roles that start suppressed.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub suppressed_roles: Vec<String>,
    /// `OfferConstraints`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_constraints: Option<serde_json::Value>,
}

/// `Call.Accept`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accept {
    /// Offers accepted (all on one agent).
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    /// What to do with them.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operations: Vec<OfferOperation>,
    /// Filter for the unused resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Decline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decline {
    /// Offers declined.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub offer_ids: Vec<OfferId>,
    /// How long to keep them away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.AcceptInverseOffers` and `Call.DeclineInverseOffers`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InverseOfferReply {
    /// The inverse offers.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub inverse_offer_ids: Vec<OfferId>,
    /// Filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<Filters>,
}

/// `Call.Revive` and `Call.Suppress`: empty `roles` means every role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// The roles.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub roles: Vec<String>,
}

/// `Call.Kill`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kill {
    /// The task.
    pub task_id: TaskId,
    /// Its agent, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Overrides the task's kill policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_policy: Option<KillPolicy>,
}

/// `Call.Shutdown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shutdown {
    /// The executor.
    pub executor_id: ExecutorId,
    /// Its agent.
    pub agent_id: AgentId,
}

/// `Call.Acknowledge`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledge {
    /// Agent of the update.
    pub agent_id: AgentId,
    /// Task of the update.
    pub task_id: TaskId,
    /// The update's `uuid`.
    pub uuid: Bytes,
}

/// `Call.AcknowledgeOperationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeOperationStatus {
    /// Agent of the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Resource provider of the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
    /// The update's `uuid.value`.
    pub uuid: Bytes,
    /// The operation.
    pub operation_id: OperationId,
}

/// `Call.Reconcile.Task`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileTask {
    /// The task.
    pub task_id: TaskId,
    /// Its agent, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
}

/// `Call.Reconcile`: empty `tasks` asks for every task (implicit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconcile {
    /// Tasks to reconcile.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tasks: Vec<ReconcileTask>,
}

/// `Call.ReconcileOperations.Operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileOperation {
    /// The operation.
    pub operation_id: OperationId,
    /// Its agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<AgentId>,
    /// Its resource provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_provider_id: Option<ResourceProviderId>,
}

/// `Call.ReconcileOperations`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileOperations {
    /// Operations to reconcile.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub operations: Vec<ReconcileOperation>,
}

/// `Call.Message` and `Event.Message`: opaque data between a scheduler and
/// an executor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The executor's agent.
    pub agent_id: AgentId,
    /// The executor.
    pub executor_id: ExecutorId,
    /// The data.
    pub data: Bytes,
}

/// `Call.Request`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Requests {
    /// The requests.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub requests: Vec<Request>,
}

/// `Call.UpdateFramework`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateFramework {
    /// The new framework info (same id).
    pub framework_info: FrameworkInfo,
    /// Roles to suppress.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub suppressed_roles: Vec<String>,
    /// `OfferConstraints`, kept as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_constraints: Option<serde_json::Value>,
}

/// `Call`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The caller; required except on a first SUBSCRIBE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_id: Option<FrameworkId>,
    /// The call; unset when missing or unknown.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<CallType>,
    /// SUBSCRIBE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribe: Option<Subscribe>,
    /// ACCEPT payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<Accept>,
    /// DECLINE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline: Option<Decline>,
    /// ACCEPT_INVERSE_OFFERS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_inverse_offers: Option<InverseOfferReply>,
    /// DECLINE_INVERSE_OFFERS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_inverse_offers: Option<InverseOfferReply>,
    /// REVIVE payload (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revive: Option<Roles>,
    /// KILL payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Kill>,
    /// SHUTDOWN payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shutdown: Option<Shutdown>,
    /// ACKNOWLEDGE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge: Option<Acknowledge>,
    /// ACKNOWLEDGE_OPERATION_STATUS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledge_operation_status: Option<AcknowledgeOperationStatus>,
    /// RECONCILE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile: Option<Reconcile>,
    /// RECONCILE_OPERATIONS payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconcile_operations: Option<ReconcileOperations>,
    /// MESSAGE payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// REQUEST payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Requests>,
    /// SUPPRESS payload (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppress: Option<Roles>,
    /// UPDATE_FRAMEWORK payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_framework: Option<UpdateFramework>,
}
