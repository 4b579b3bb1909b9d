//! The body of a subscription response: the master's RecordIO records as
//! they come, chunked; when the client goes away (the body is dropped) the
//! master is told which stream closed.

use super::Shared;
use crate::core::{CallError, Closed, Command, Subscription};
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Records for one subscription, with a close notice on drop.
#[derive(Debug)]
pub struct RecordBody {
    records: mpsc::UnboundedReceiver<Bytes>,
    notice: Option<(mpsc::UnboundedSender<Command>, Closed)>,
}

impl RecordBody {
    /// The body for `records`; `closed` is reported on `master` at the end.
    pub fn new(
        records: mpsc::UnboundedReceiver<Bytes>,
        master: mpsc::UnboundedSender<Command>,
        closed: Closed,
    ) -> RecordBody {
        RecordBody {
            records,
            notice: Some((master, closed)),
        }
    }
}

impl Stream for RecordBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.records.poll_recv(cx).map(|r| r.map(Ok))
    }
}

impl Drop for RecordBody {
    fn drop(&mut self) {
        if let Some((master, closed)) = self.notice.take() {
            let _ = master.send(Command::StreamClosed(closed));
        }
    }
}

/// The answer to a granted subscription, once the registry holds it: 200,
/// `Mesos-Stream-Id`, and the records as a chunked body.
pub async fn respond(shared: &Shared, sub: Subscription) -> Result<Response, CallError> {
    if let Some(ticket) = sub.durable {
        ticket.await.map_err(|e| CallError {
            status: 503,
            message: format!("the registry could not record the subscription: {e}"),
        })?;
    }
    let body = RecordBody::new(sub.records, shared.master.clone(), sub.closed);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::HeaderName::from_static("mesos-stream-id"),
                sub.stream_id,
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
