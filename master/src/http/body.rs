//! The body of a subscription response: the master's RecordIO records as
//! they come, chunked; when the client goes away (the body is dropped) the
//! master is told which stream closed.
//!
//! Records queued together leave together: each poll takes every record
//! already queued (up to [`MAX_CHUNK_BYTES`]) into one HTTP chunk, so a
//! burst of events (forty LAUNCHes of one ACCEPT, a framework's updates)
//! costs one write instead of one per record. RecordIO framing does not
//! depend on chunk boundaries, so readers see the same stream.

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

/// The most bytes gathered into one chunk (a single larger record is sent
/// whole).
pub const MAX_CHUNK_BYTES: usize = 256 * 1024;

impl Stream for RecordBody {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let first = match self.records.poll_recv(cx) {
            Poll::Ready(Some(first)) => first,
            other => return other.map(|r| r.map(Ok)),
        };
        Poll::Ready(Some(Ok(gather(first, &mut self.records))))
    }
}

/// `first` and whatever else is queued behind it, as one buffer.
fn gather(first: Bytes, records: &mut mpsc::UnboundedReceiver<Bytes>) -> Bytes {
    if first.len() >= MAX_CHUNK_BYTES || records.is_empty() {
        return first;
    }
    let guess = first.len().saturating_mul(records.len() + 1);
    let mut chunk = bytes::BytesMut::with_capacity(guess.min(MAX_CHUNK_BYTES));
    chunk.extend_from_slice(&first);
    while chunk.len() < MAX_CHUNK_BYTES {
        match records.try_recv() {
            Ok(next) => chunk.extend_from_slice(&next),
            Err(_) => break,
        }
    }
    chunk.freeze()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(records: &[&[u8]]) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        for r in records {
            tx.send(Bytes::copy_from_slice(r)).unwrap();
        }
        rx
    }

    #[test]
    fn queued_records_leave_as_one_chunk_in_order() {
        let mut rx = queue(&[b"2\n{}", b"3\n[1]"]);
        let chunk = gather(Bytes::from_static(b"4\n\"a\""), &mut rx);
        assert_eq!(&chunk[..], b"4\n\"a\"2\n{}3\n[1]");
        assert!(rx.is_empty());
    }

    #[test]
    fn a_lone_record_is_passed_through() {
        let mut rx = queue(&[]);
        let chunk = gather(Bytes::from_static(b"2\n{}"), &mut rx);
        assert_eq!(&chunk[..], b"2\n{}");
    }

    #[test]
    fn a_chunk_stops_growing_past_the_cap() {
        let big = vec![b'x'; MAX_CHUNK_BYTES / 2 + 1];
        let mut rx = queue(&[&big, &big, b"tail"]);
        let first = rx.try_recv().unwrap();
        let chunk = gather(first, &mut rx);
        assert_eq!(chunk.len(), 2 * big.len());
        assert_eq!(&rx.try_recv().unwrap()[..], b"tail");
    }
}
