//! One event stream: RecordIO-framed JSON records queued for an HTTP
//! response body (a framework's or an agent's subscription). The body side
//! owns the receiver; when the client goes away the body is dropped and the
//! master hears of it (see `http::body`).

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

/// The master's end of a subscription stream.
#[derive(Debug)]
pub struct Stream {
    /// The `Mesos-Stream-Id` of this subscription.
    pub id: String,
    tx: mpsc::UnboundedSender<Bytes>,
}

impl Stream {
    /// A new stream with a fresh id, and the receiver for the body.
    pub fn open() -> (Stream, mpsc::UnboundedReceiver<Bytes>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = uuid::Uuid::new_v4().to_string();
        (Stream { id, tx }, rx)
    }

    /// Queues `event`; false if the body is gone.
    pub fn send<T: Serialize>(&self, event: &T) -> bool {
        match corral_api::json::to_vec(event) {
            Ok(json) => self
                .tx
                .send(Bytes::from(corral_api::recordio::encode(&json)))
                .is_ok(),
            Err(_) => false,
        }
    }
}
