//! The thread that reads a subscription's RecordIO stream and sends each
//! decoded event (or why the stream ended) down a channel.

use std::sync::mpsc::Sender;
use std::time::Duration;

use corral_api::json;
use corral_api::recordio::Decoder;
use corral_api::scheduler::Event;

use super::summary;
use crate::http::{Piece, Stream};

/// What the reader sends.
pub(super) enum Item {
    Event(Box<Event>),
    Closed(String),
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Item::Event(e) => write!(f, "{}", summary(e)),
            Item::Closed(why) => write!(f, "closed: {why}"),
        }
    }
}

/// Reads `stream` until it ends; the last item sent says why.
pub(super) fn read_events(mut stream: Stream, tx: &Sender<Item>) {
    let mut decoder = Decoder::new();
    let closed = loop {
        let piece = match stream.read(Duration::from_millis(500)) {
            Ok(p) => p,
            Err(e) => break format!("read error: {e}"),
        };
        let data = match piece {
            Piece::Data(data) => data,
            Piece::End { complete } => {
                let tail = decoder
                    .finish()
                    .err()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default();
                let how = if complete {
                    "the master ended the stream"
                } else {
                    "the connection closed"
                };
                break format!("{how}{tail}");
            }
        };
        let records = match decoder.decode(&data) {
            Ok(r) => r,
            Err(e) => break format!("bad RecordIO: {e}"),
        };
        for record in records {
            match json::from_slice::<Event>(&record) {
                Ok(e) => {
                    if tx.send(Item::Event(Box::new(e))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let text = String::from_utf8_lossy(&record);
                    let _ = tx.send(Item::Closed(format!("undecodable event ({e}): {text}")));
                    return;
                }
            }
        }
    };
    let _ = tx.send(Item::Closed(closed));
}
