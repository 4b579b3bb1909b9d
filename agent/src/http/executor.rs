//! `POST /api/v1/executor`: Mesos' v1 executor API. SUBSCRIBE is answered
//! 200 with the executor's event stream (chunked RecordIO of JSON events,
//! a HEARTBEAT every 30 s as Mesos' agent sends); UPDATE and MESSAGE with
//! 202. A body that is not JSON, or a call that fails Mesos' validation,
//! is 400 with the message; another media type is 415; a call for an
//! executor the agent does not run is refused by the agent's loop
//! (`core/executor/calls.rs`).

use super::Shared;
use crate::core::Input;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_api::executor::{Call, CallType, Event};
use futures_util::Stream;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Mesos' DEFAULT_EXECUTOR_HEARTBEAT_INTERVAL.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

fn refuse(status: u16, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (code, message.into()).into_response()
}

/// The media checks of Mesos' HTTP APIs: JSON in; JSON accepted back.
fn check_media(headers: &HeaderMap, subscribe: bool) -> Result<(), Box<Response>> {
    let media = |v: &str| v.split(';').next().unwrap_or("").trim().to_string();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(media);
    match ct.as_deref() {
        None => {
            return Err(Box::new(refuse(
                400,
                "expecting 'Content-Type' to be present",
            )));
        }
        Some("application/json") => {}
        Some(other) => {
            return Err(Box::new(refuse(
                415,
                format!("expecting 'Content-Type' of application/json, not '{other}'"),
            )));
        }
    }
    if let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())
        && subscribe
        && !accept.split(',').any(|p| {
            matches!(
                media(p).as_str(),
                "application/json" | "application/*" | "*/*" | ""
            )
        })
    {
        return Err(Box::new(refuse(
            406,
            format!("expecting 'Accept' to allow application/json, not '{accept}'"),
        )));
    }
    Ok(())
}

pub(super) async fn handle(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = check_media(&headers, false) {
        return *r;
    }
    let call: Call = match corral_api::json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return refuse(400, format!("failed to parse the call: {e}")),
    };
    let subscribe = call.r#type == Some(CallType::Subscribe);
    if let Err(r) = check_media(&headers, subscribe) {
        return *r;
    }
    if let Err(e) = call.validate() {
        return refuse(400, format!("failed to validate the executor call: {e}"));
    }
    let (tx, rx) = oneshot::channel();
    let input = Input::ExecutorCall {
        call: Box::new(call),
        reply: tx,
    };
    if shared.tx.send(input).await.is_err() {
        return refuse(503, "the agent is shutting down");
    }
    match rx.await {
        Err(_) => refuse(503, "the agent is shutting down"),
        Ok(Err((status, message))) => refuse(status, message),
        Ok(Ok(None)) => (StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response(),
        Ok(Ok(Some(events))) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from_stream(EventBody::new(events, HEARTBEAT)),
        )
            .into_response(),
    }
}

/// An executor's events as RecordIO records, with heartbeats between;
/// it ends when the agent drops the sender (a newer subscription, the
/// executor's end).
#[derive(Debug)]
pub struct EventBody {
    events: mpsc::UnboundedReceiver<Event>,
    heartbeat: tokio::time::Interval,
}

impl EventBody {
    /// The body for `events`, a HEARTBEAT every `every`.
    pub fn new(events: mpsc::UnboundedReceiver<Event>, every: Duration) -> EventBody {
        let start = tokio::time::Instant::now() + every;
        EventBody {
            events,
            heartbeat: tokio::time::interval_at(start, every),
        }
    }
}

fn record(e: &Event) -> Bytes {
    let json = corral_api::json::to_vec(e).expect("executor events serialize");
    Bytes::from(corral_api::recordio::encode(&json))
}

impl Stream for EventBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.events.poll_recv(cx) {
            Poll::Ready(Some(e)) => return Poll::Ready(Some(Ok(record(&e)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        match self.heartbeat.poll_tick(cx) {
            Poll::Ready(_) => Poll::Ready(Some(Ok(record(&Event::heartbeat())))),
            Poll::Pending => Poll::Pending,
        }
    }
}
