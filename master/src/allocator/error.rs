//! The allocator's errors: one type per concern, each saying which id,
//! role or resource was wrong and what to do about it.

use super::ids::{AgentKey, FrameworkKey};
use thiserror::Error;

/// A role path that breaks Mesos' naming rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid role `{role}`: {reason}")]
pub struct RoleError {
    /// The role as given.
    pub role: String,
    /// Which rule it breaks.
    pub reason: &'static str,
}

/// A resource item that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid resource `{item}`: {reason}")]
pub struct ResourceError {
    /// The item as given.
    pub item: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A sorter call about a client it does not hold, or an impossible change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SorterError {
    /// `add_client` for a client already in the sorter.
    #[error("sorter client {client} is already present; remove it before adding it again")]
    Duplicate {
        /// The client, formatted.
        client: String,
    },
    /// A call naming a client that was never added (or was removed).
    #[error("sorter client {client} is unknown; add it first")]
    UnknownClient {
        /// The client, formatted.
        client: String,
    },
    /// `add_client` with a malformed path.
    #[error("sorter path `{path}` has an empty component")]
    InvalidPath {
        /// The path as given.
        path: String,
    },
    /// `unallocated` for more than the client holds on that agent.
    #[error(
        "cannot unallocate {requested} from sorter client {client} on agent {agent}: \
         only {held} is allocated there"
    )]
    NotAllocated {
        /// The client, formatted.
        client: String,
        /// The agent.
        agent: AgentKey,
        /// What was to be unallocated.
        requested: String,
        /// What the client holds on the agent.
        held: String,
    },
}

/// A call to the allocator that cannot be carried out; the allocator's
/// state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AllocatorError {
    /// The framework key is not (or no longer) known.
    #[error("unknown framework {0}: it was never added or has been removed")]
    UnknownFramework(FrameworkKey),
    /// The agent key is not (or no longer) known.
    #[error("unknown agent {0}: it was never added or has been removed")]
    UnknownAgent(AgentKey),
    /// A role name breaks the naming rules.
    #[error(transparent)]
    Role(#[from] RoleError),
    /// A framework must subscribe to at least one role.
    #[error("framework has no role: subscribe it to at least one")]
    NoRoles,
    /// The framework is not subscribed to the role named.
    #[error("framework {framework} is not subscribed to role `{role}`")]
    NotSubscribed {
        /// The framework.
        framework: FrameworkKey,
        /// The role named.
        role: String,
    },
    /// Resources recovered (or used at agent addition) that the
    /// framework does not hold on that agent in that role.
    #[error(
        "framework {framework} does not hold {resources} on agent {agent} in role `{role}` \
         (it holds {held})"
    )]
    NotAllocated {
        /// The framework.
        framework: FrameworkKey,
        /// The role.
        role: String,
        /// The agent.
        agent: AgentKey,
        /// What was to be recovered.
        resources: String,
        /// What the framework holds there.
        held: String,
    },
    /// Used resources at agent addition that the agent's total lacks.
    #[error("resources in use {used} exceed the agent's total {total}")]
    UsedExceedsTotal {
        /// Sum of the resources in use.
        used: String,
        /// The total given.
        total: String,
    },
    /// An agent update whose new total lacks resources still allocated.
    #[error(
        "agent {agent}: new total {total} does not contain the allocated {allocated}; \
         recover or rescind those resources first"
    )]
    TotalBelowAllocation {
        /// The agent.
        agent: AgentKey,
        /// The new total.
        total: String,
        /// What is allocated there.
        allocated: String,
    },
    /// A conversion of allocated resources whose two sides differ in what
    /// they hold (not just in their reservations).
    #[error(
        "cannot convert {from} into {to}: a conversion only changes reservations, \
         both sides must hold the same resources"
    )]
    ConversionMismatch {
        /// What was to be converted.
        from: String,
        /// What it was to become.
        to: String,
    },
    /// A weight that is not a finite positive number.
    #[error("weight {weight} for role `{role}` must be finite and greater than zero")]
    InvalidWeight {
        /// The role.
        role: String,
        /// The weight given.
        weight: f64,
    },
    /// Quota on a nested role (quota is set on top-level roles and covers
    /// their sub-roles).
    #[error("quota can only be set on a top-level role, not `{role}`; set it on `{top}`")]
    QuotaOnNestedRole {
        /// The role given.
        role: String,
        /// Its top-level role.
        top: String,
    },
    /// A quota whose guarantee of some resource exceeds its limit.
    #[error("quota for role `{role}`: guarantee of `{name}` exceeds its limit")]
    GuaranteeAboveLimit {
        /// The role.
        role: String,
        /// The resource name.
        name: String,
    },
    /// An internal sorter inconsistency (a bug): the state was not changed.
    #[error("allocator bookkeeping error: {0}")]
    Sorter(#[from] SorterError),
}
