//! The master's HTTP surface: the scheduler API, the agent link, the
//! operator API, `/version`, `/health` and `/metrics`. Handlers parse and
//! check requests, hand a [`Command`] to the master's loop and turn its
//! answer into a response; they hold no state of their own.

mod agent;
mod body;
mod misc;
mod scheduler;
mod serve;

pub use misc::MESOS_VERSION as MESOS_VERSION_STR;
pub use serve::serve;

use crate::core::{CallError, Command};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{mpsc, oneshot};

/// What every handler needs: the way to the master's loop.
#[derive(Debug, Clone)]
pub struct Shared {
    /// Commands to the master.
    pub master: mpsc::UnboundedSender<Command>,
}

/// The router for all of the master's endpoints.
pub fn router(shared: Shared, max_body: usize) -> Router {
    Router::new()
        .route("/api/v1/scheduler", post(scheduler::handle))
        .route(corral_api::agent_link::PATH, post(agent::handle))
        .route("/api/v1", post(misc::operator))
        .route("/api/v1/operator", post(misc::operator))
        .route("/version", get(misc::version))
        .route("/health", get(misc::health))
        .route("/metrics", get(misc::metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(shared)
}

/// An error answer: the status and the message as text.
pub(crate) fn error(e: CallError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        e.message,
    )
        .into_response()
}

/// Sends `cmd` (built around a reply channel) and waits for the answer.
pub(crate) async fn ask<T>(
    shared: &Shared,
    make: impl FnOnce(oneshot::Sender<Result<T, CallError>>) -> Command,
) -> Result<T, CallError> {
    let (tx, rx) = oneshot::channel();
    shared.master.send(make(tx)).map_err(|_| gone())?;
    rx.await.map_err(|_| gone())?
}

/// 503: the master's loop is gone.
pub(crate) fn gone() -> CallError {
    CallError {
        status: 503,
        message: "the master is shutting down".into(),
    }
}

/// Mesos' Content-Type rules: present (400), JSON (415 otherwise).
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), CallError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Err(CallError::bad_request(
            "expecting 'Content-Type' to be present",
        ));
    };
    let ct = ct.to_str().unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    match media {
        "application/json" => Ok(()),
        "application/x-protobuf" => Err(CallError {
            status: 415,
            message: "corral speaks JSON only: send 'Content-Type: application/json'".into(),
        }),
        other => Err(CallError {
            status: 415,
            message: format!(
                "expecting 'Content-Type' of application/json or application/x-protobuf, not '{other}'"
            ),
        }),
    }
}

/// Mesos' Accept rule for streaming answers: JSON must be acceptable (406).
pub(crate) fn check_accept(headers: &HeaderMap) -> Result<(), CallError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let accept = accept.to_str().unwrap_or("");
    let ok = accept.split(',').any(|part| {
        let media = part.split(';').next().unwrap_or("").trim();
        matches!(media, "application/json" | "application/*" | "*/*" | "")
    });
    if ok {
        Ok(())
    } else {
        Err(CallError {
            status: 406,
            message: format!("expecting 'Accept' to allow application/json, not '{accept}'"),
        })
    }
}

/// 202 Accepted with an empty body.
pub(crate) fn accepted() -> Response {
    (StatusCode::ACCEPTED, [(header::CONTENT_LENGTH, "0")]).into_response()
}
