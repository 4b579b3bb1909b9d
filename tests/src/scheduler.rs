//! A Mesos v1 scheduler client for tests against a real master: SUBSCRIBE
//! on `/api/v1/scheduler` (JSON, chunked RecordIO events decoded on a
//! background thread into a channel), calls on a separate keep-alive
//! connection with the `Mesos-Stream-Id` header, typed on `corral_api`.
//!
//! Every wait has a timeout; every unexpected answer panics naming what was
//! expected and what came. The convenience calls (`accept_launch`,
//! `decline`, …) assert `202 Accepted`; [`Scheduler::call`] returns the
//! status for tests of refusals, and [`raw_post`] sends anything at all.

use std::io;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use corral_api::json;
use corral_api::scheduler::{Call, Event, EventType, ReconcileTask};
use corral_api::v1::{
    Filters, FrameworkInfo, Offer, OfferOperation, TaskInfo, TaskState, TaskStatus,
};
use corral_api::{AgentId, FrameworkId, OfferId, TaskId};

use crate::http::{self, Client, Response, Stream, Target};

mod helpers;
mod reader;
mod reservations;

pub use helpers::{
    container_id, disk_from, framework, raw_post, summary, task_for, task_on_reserved,
};
use reader::{Item, read_events};
pub use reservations::{framework_in, reserve_op, reserved, unreserve_op};

/// The scheduler endpoint.
pub const PATH: &str = "/api/v1/scheduler";
/// How long [`Scheduler::subscribe`] waits for the stream and SUBSCRIBED.
pub const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a subscription failed.
#[derive(Debug)]
pub enum SubscribeError {
    /// No connection, or it broke.
    Io(io::Error),
    /// The master answered something other than 200.
    Status {
        /// The status code.
        status: u16,
        /// The body.
        body: String,
    },
    /// 200 without a `Mesos-Stream-Id` header.
    NoStreamId,
    /// The first event was not SUBSCRIBED (an ERROR, say).
    FirstEvent(Box<Event>),
    /// The stream ended (or could not be decoded) before SUBSCRIBED.
    Closed(String),
    /// Nothing came in time.
    Timeout,
}

impl std::fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubscribeError::Io(e) => write!(f, "{e}"),
            SubscribeError::Status { status, body } => write!(f, "answered {status}: {body}"),
            SubscribeError::NoStreamId => write!(f, "answered 200 without Mesos-Stream-Id"),
            SubscribeError::FirstEvent(e) => write!(f, "the first event was {}", summary(e)),
            SubscribeError::Closed(why) => write!(f, "the stream ended before SUBSCRIBED: {why}"),
            SubscribeError::Timeout => write!(f, "no SUBSCRIBED in time"),
        }
    }
}

/// A subscribed framework.
#[derive(Debug)]
pub struct Scheduler {
    url: String,
    info: FrameworkInfo,
    stream_id: String,
    subscribed: Event,
    events: Receiver<Item>,
    socket: Option<TcpStream>,
    reader: Option<JoinHandle<()>>,
    client: Mutex<Client>,
    closed: Option<String>,
    heartbeats: usize,
    auto_ack: bool,
}

impl Scheduler {
    /// Subscribes a new framework; panics unless the master answers 200
    /// with a stream id and SUBSCRIBED first.
    pub fn subscribe(master_url: &str, framework_info: FrameworkInfo) -> Scheduler {
        Scheduler::try_subscribe(
            master_url,
            &Call::subscribe(framework_info),
            SUBSCRIBE_TIMEOUT,
        )
        .unwrap_or_else(|e| panic!("SUBSCRIBE to {master_url} failed: {e}"))
    }

    /// Subscribes again as the framework `info.id` (failover): the call has
    /// `framework_id` at the top level too.
    pub fn resubscribe(master_url: &str, info: FrameworkInfo) -> Scheduler {
        assert!(info.id.is_some(), "resubscribe needs framework_info.id");
        Scheduler::subscribe(master_url, info)
    }

    /// Sends `call` (a SUBSCRIBE, as given) and waits for SUBSCRIBED.
    pub fn try_subscribe(
        master_url: &str,
        call: &Call,
        timeout: Duration,
    ) -> Result<Scheduler, SubscribeError> {
        let target = Target::parse(master_url);
        let body = json::to_vec(call).unwrap();
        let headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ];
        let request = http::request_bytes("POST", &target, PATH, &headers, &body);
        let stream = Stream::open(&target, &request, timeout).map_err(SubscribeError::Io)?;
        if stream.head.status != 200 {
            let status = stream.head.status;
            let rest = stream.read_to_end(Instant::now() + Duration::from_secs(5));
            let body = rest.map(|r| r.text()).unwrap_or_else(|e| format!("<{e}>"));
            return Err(SubscribeError::Status { status, body });
        }
        let stream_id = http::header(&stream.head.headers, "mesos-stream-id")
            .ok_or(SubscribeError::NoStreamId)?
            .to_owned();
        let socket = stream.socket().map_err(SubscribeError::Io)?;
        let (tx, events) = mpsc::channel();
        let reader = std::thread::spawn(move || read_events(stream, &tx));
        let mut info = call.subscribe.clone().unwrap_or_default().framework_info;
        let mut scheduler = Scheduler {
            client: Mutex::new(Client::new(master_url)),
            url: master_url.to_owned(),
            info: info.clone(),
            stream_id,
            subscribed: Event::default(),
            events,
            socket: Some(socket),
            reader: Some(reader),
            closed: None,
            heartbeats: 0,
            auto_ack: false,
        };
        let first = match scheduler.next_event(timeout) {
            Some(e) if e.r#type == Some(EventType::Subscribed) => e,
            Some(e) => return Err(SubscribeError::FirstEvent(Box::new(e))),
            None => {
                return Err(scheduler
                    .closed
                    .take()
                    .map_or(SubscribeError::Timeout, SubscribeError::Closed));
            }
        };
        info.id = first.subscribed.as_ref().map(|s| s.framework_id.clone());
        scheduler.info = info;
        scheduler.subscribed = first;
        Ok(scheduler)
    }

    /// The framework's id (from SUBSCRIBED).
    pub fn framework_id(&self) -> FrameworkId {
        self.info.id.clone().unwrap_or_default()
    }

    /// The framework info subscribed with, `id` set: what a failover
    /// [`Scheduler::resubscribe`] sends.
    pub fn info(&self) -> FrameworkInfo {
        self.info.clone()
    }

    /// The `Mesos-Stream-Id` of the subscription.
    pub fn stream_id(&self) -> &str {
        &self.stream_id
    }

    /// The SUBSCRIBED event.
    pub fn subscribed(&self) -> &Event {
        &self.subscribed
    }

    /// HEARTBEATs received so far.
    pub fn heartbeats(&self) -> usize {
        self.heartbeats
    }

    /// Why the stream ended, once it has.
    pub fn closed(&self) -> Option<&str> {
        self.closed.as_deref()
    }

    /// Acknowledges every UPDATE with a uuid as it is received (pymesos'
    /// implicit acknowledgements); off by default. Without it, an UPDATE
    /// left unacknowledged holds back the task's later ones.
    pub fn set_auto_acknowledge(&mut self, on: bool) {
        self.auto_ack = on;
    }

    /// The next event (HEARTBEATs included), or `None` when nothing came
    /// within `timeout` or the stream ended (see [`Scheduler::closed`]).
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        if self.closed.is_some() {
            return None;
        }
        match self.events.recv_timeout(timeout) {
            Ok(Item::Event(e)) => {
                if e.r#type == Some(EventType::Heartbeat) {
                    self.heartbeats += 1;
                }
                if let Some(update) = e.update.as_ref().filter(|_| self.auto_ack) {
                    self.acknowledge(&update.status);
                }
                Some(*e)
            }
            Ok(Item::Closed(why)) => {
                self.closed = Some(why);
                None
            }
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                self.closed = Some("event reader thread ended".into());
                None
            }
        }
    }

    /// The next event other than HEARTBEAT, which must be of type `t`.
    pub fn expect(&mut self, t: EventType, timeout: Duration) -> Event {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_event(deadline.saturating_duration_since(Instant::now())) {
                Some(e) if e.r#type == Some(EventType::Heartbeat) => continue,
                Some(e) if e.r#type == Some(t) => return e,
                Some(e) => panic!("expected {t}, got {}", summary(&e)),
                None => panic!("expected {t} within {timeout:?}; {}", self.nothing()),
            }
        }
    }

    /// Non-HEARTBEAT events up to and including the first matching `pred`.
    pub fn events_until(&mut self, pred: impl Fn(&Event) -> bool, timeout: Duration) -> Vec<Event> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            match self.next_event(deadline.saturating_duration_since(Instant::now())) {
                Some(e) if e.r#type == Some(EventType::Heartbeat) => continue,
                Some(e) => {
                    let done = pred(&e);
                    seen.push(e);
                    if done {
                        return seen;
                    }
                }
                None => {
                    let got: Vec<String> = seen.iter().map(summary).collect();
                    panic!(
                        "the awaited event did not come within {timeout:?}; {}; came instead \
                         (an unacknowledged UPDATE holds back its task's next one):\n{}",
                        self.nothing(),
                        got.join("\n")
                    );
                }
            }
        }
    }

    /// Skips events until the next OFFERS; returns its offers.
    pub fn next_offers(&mut self, timeout: Duration) -> Vec<Offer> {
        let is_offers = |e: &Event| e.r#type == Some(EventType::Offers);
        let event = self.events_until(is_offers, timeout).pop().unwrap();
        event.offers.map(|o| o.offers).unwrap_or_default()
    }

    /// Skips events until an UPDATE of `task_id` in `state`; returns it.
    pub fn expect_update(
        &mut self,
        task_id: &str,
        state: TaskState,
        timeout: Duration,
    ) -> TaskStatus {
        let matches = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == task_id && u.status.state == state)
        };
        let event = self.events_until(matches, timeout).pop().unwrap();
        event.update.unwrap().status
    }

    fn nothing(&self) -> String {
        match &self.closed {
            Some(why) => format!("the stream ended: {why}"),
            None => "nothing came (stream still open)".into(),
        }
    }

    /// Sends `call` (its `framework_id` filled in) with the stream id;
    /// returns the status and body. Panics on I/O errors.
    pub fn call(&self, call: Call) -> (u16, String) {
        let what = call
            .r#type
            .map_or("call without type".into(), |t| t.to_string());
        self.try_call(call)
            .unwrap_or_else(|e| panic!("{what} to {} failed: {e}", self.url))
    }

    /// [`Scheduler::call`] returning I/O errors.
    pub fn try_call(&self, mut call: Call) -> io::Result<(u16, String)> {
        call.framework_id.get_or_insert_with(|| self.framework_id());
        let r = self.post_body(&json::to_vec(&call).unwrap(), &[])?;
        Ok((r.status, r.text()))
    }

    /// POSTs `body` to the scheduler endpoint on the call connection with
    /// `Content-Type: application/json`, the stream id and `extra` headers.
    pub fn post_body(&self, body: &[u8], extra: &[(&str, &str)]) -> io::Result<Response> {
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("Mesos-Stream-Id", self.stream_id.as_str()),
        ];
        headers.extend_from_slice(extra);
        self.client.lock().unwrap().post(PATH, &headers, body)
    }

    fn accepted(&self, call: Call) {
        let what = call.r#type.map_or("call".into(), |t| t.to_string());
        let (status, body) = self.call(call);
        assert_eq!(status, 202, "{what} answered {status}: {body}");
    }

    /// ACCEPT with one LAUNCH of `tasks`; asserts 202.
    pub fn accept_launch(
        &self,
        offer_ids: Vec<OfferId>,
        tasks: Vec<TaskInfo>,
        refuse_seconds: Option<f64>,
    ) {
        let filters = refuse_seconds.map(|refuse_seconds| Filters { refuse_seconds });
        let launch = vec![OfferOperation::launch(tasks)];
        self.accepted(Call::accept(
            self.framework_id(),
            offer_ids,
            launch,
            filters,
        ));
    }

    /// ACCEPT of any `operations` (RESERVE, UNRESERVE, LAUNCH…); asserts 202.
    pub fn accept(
        &self,
        offer_ids: Vec<OfferId>,
        operations: Vec<OfferOperation>,
        refuse_seconds: Option<f64>,
    ) {
        let filters = refuse_seconds.map(|refuse_seconds| Filters { refuse_seconds });
        let call = Call::accept(self.framework_id(), offer_ids, operations, filters);
        self.accepted(call);
    }

    /// DECLINE; asserts 202.
    pub fn decline(&self, offer_ids: Vec<OfferId>, refuse_seconds: Option<f64>) {
        let filters = refuse_seconds.map(|refuse_seconds| Filters { refuse_seconds });
        self.accepted(Call::decline(self.framework_id(), offer_ids, filters));
    }

    /// REVIVE of `roles` (empty: all); asserts 202.
    pub fn revive(&self, roles: &[&str]) {
        let roles = roles.iter().map(|r| r.to_string()).collect();
        self.accepted(Call::revive(self.framework_id(), roles));
    }

    /// SUPPRESS of `roles` (empty: all); asserts 202.
    pub fn suppress(&self, roles: &[&str]) {
        let roles = roles.iter().map(|r| r.to_string()).collect();
        self.accepted(Call::suppress(self.framework_id(), roles));
    }

    /// KILL; asserts 202.
    pub fn kill(&self, task_id: impl Into<TaskId>, agent_id: Option<AgentId>) {
        self.accepted(Call::kill(self.framework_id(), task_id.into(), agent_id));
    }

    /// ACKNOWLEDGE of `status` when it has a uuid (as pymesos does); asserts
    /// 202. Returns whether it was sent. Panics on a uuid without agent_id.
    pub fn acknowledge(&self, status: &TaskStatus) -> bool {
        let Some(uuid) = status.uuid.clone() else {
            return false;
        };
        let agent_id = status.agent_id.clone().unwrap_or_else(|| {
            panic!(
                "UPDATE of {} has a uuid but no agent_id: {status:?}",
                status.task_id
            )
        });
        let call = Call::acknowledge(self.framework_id(), agent_id, status.task_id.clone(), uuid);
        self.accepted(call);
        true
    }

    /// RECONCILE of `tasks` (empty: all); asserts 202.
    pub fn reconcile(&self, tasks: Vec<(TaskId, Option<AgentId>)>) {
        let tasks = tasks
            .into_iter()
            .map(|(task_id, agent_id)| ReconcileTask { task_id, agent_id })
            .collect();
        self.accepted(Call::reconcile(self.framework_id(), tasks));
    }

    /// TEARDOWN; asserts 202.
    pub fn teardown(&self) {
        self.accepted(Call::teardown(self.framework_id()));
    }

    /// Drops the event stream without TEARDOWN (a scheduler failing over).
    pub fn close(&mut self) {
        if let Some(socket) = self.socket.take() {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.closed
            .get_or_insert_with(|| "closed by the test".into());
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests;
