//! `POST /api/v1/agent_link`: corral's agent link (see
//! `corral_api::agent_link`). SUBSCRIBE opens the agent's event stream;
//! other calls name the agent and its stream in headers and get 202.

use super::{Shared, accepted, ask, check_content_type, error};
use crate::core::{CallError, Command};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use corral_api::AgentId;
use corral_api::agent_link::{AGENT_ID_HEADER, AgentCall, STREAM_ID_HEADER};

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
    let call: AgentCall = corral_api::json::from_slice(body)
        .map_err(|e| CallError::bad_request(format!("failed to parse the agent call: {e}")))?;
    let text = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    };
    if let AgentCall::Subscribe {
        agent_info,
        tasks,
        executors,
        ..
    } = call
    {
        let sub = ask(shared, |reply| Command::AgentSubscribe {
            info: agent_info,
            tasks,
            executors,
            reply,
        })
        .await?;
        return super::body::respond(shared, sub).await;
    }
    let agent_id = text(AGENT_ID_HEADER).map(AgentId::new).ok_or_else(|| {
        CallError::bad_request(format!("expecting the '{AGENT_ID_HEADER}' header"))
    })?;
    ask(shared, |reply| Command::AgentCall {
        agent_id,
        stream_id: text(STREAM_ID_HEADER),
        call: Box::new(call),
        reply,
    })
    .await?;
    Ok(accepted())
}
