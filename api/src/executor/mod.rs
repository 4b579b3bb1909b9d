//! The v1 executor API (`include/mesos/v1/executor/executor.proto`): the
//! `Call`s an executor POSTs to the agent's `/api/v1/executor`, their shape
//! checks (as Mesos' agent runs them), and the `Event`s the agent streams
//! back on the SUBSCRIBE response.

pub mod call;
pub mod event;
pub mod validate;

pub use call::{Call, CallType, Message, Subscribe, Update};
pub use event::{Acknowledged, Error, Event, EventType, Kill, Launch, LaunchGroup, Subscribed};
pub use validate::CallError;
