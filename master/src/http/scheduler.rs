//! `POST /api/v1/scheduler`: SUBSCRIBE answered with the event stream
//! (200, chunked RecordIO, `Mesos-Stream-Id`), every other call with 202
//! once the master accepted it. Malformed requests are 400 with a message.

use super::{Shared, accepted, ask, check_accept, check_content_type, error};
use crate::core::{CallError, Command};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use corral_api::scheduler::{Call, CallType};

/// The stream id header of Mesos' scheduler API.
pub const STREAM_ID: &str = "Mesos-Stream-Id";

pub(super) async fn handle(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(&shared, &headers, &body).await {
        Ok(r) => r,
        Err(e) => error(e),
    }
}

async fn serve(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, CallError> {
    check_content_type(headers)?;
    let call: Call = corral_api::json::from_slice(body)
        .map_err(|e| CallError::bad_request(format!("failed to parse the call: {e}")))?;
    let stream_id = headers
        .get(STREAM_ID)
        .map(|v| v.to_str().unwrap_or("").to_string());
    if call.r#type == Some(CallType::Subscribe) {
        if stream_id.is_some() {
            return Err(CallError::bad_request(
                "SUBSCRIBE calls should not include the 'Mesos-Stream-Id' header",
            ));
        }
        check_accept(headers)?;
        let sub = ask(shared, |reply| Command::Subscribe {
            call: Box::new(call),
            reply,
        })
        .await?;
        return super::body::respond(shared, sub).await;
    }
    ask(shared, |reply| Command::Call {
        call: Box::new(call),
        stream_id,
        reply,
    })
    .await?;
    Ok(accepted())
}
