//! The v1 scheduler API (`include/mesos/v1/scheduler/scheduler.proto`):
//! the `Call`s a scheduler sends, their shape checks, and the `Event`s the
//! master streams back.

pub mod call;
pub mod constructors;
pub mod event;
pub mod validate;

pub use call::{
    Accept, Acknowledge, AcknowledgeOperationStatus, Call, CallType, Decline, InverseOfferReply,
    Kill, Message, Reconcile, ReconcileOperation, ReconcileOperations, ReconcileTask, Requests,
    Roles, Shutdown, Subscribe, UpdateFramework,
};
pub use event::{
    Error, Event, EventType, Failure, InverseOffers, Offers, Rescind, RescindInverseOffer,
    Subscribed, Update, UpdateOperationStatus,
};
pub use validate::CallError;
