//! The agent's own HTTP endpoints (port 5051): `GET /health`,
//! `GET /version`, `GET /state` (the agent's id, resources, attributes and
//! cgroup controllers), `GET /monitor/statistics` (Mesos' shape: one entry
//! per executor with its `ResourceStatistics`) and the operator API at
//! `POST /api/v1`: GET_HEALTH, GET_VERSION, GET_AGENT, GET_CONTAINERS,
//! PRUNE_IMAGES;
//! `GET /sandbox/{container_id}/{stdout|stderr}` (a task's output, see
//! `sandbox.rs`); the v1 executor API at `POST /api/v1/executor`
//! (`executor.rs`). [`report_usage`] sends the containers' statistics to
//! the master periodically.

mod executor;
pub mod sandbox;
mod usage;

use crate::containerizer::Containerizer;
use crate::core::{ContainerView, Input, Query};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use corral_api::agent_link::ContainerUsage;
use corral_api::v1::ResourceStatistics;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The version clients read (numeric, as Mesos').
pub const VERSION: &str = "1.11.0";

/// What handlers share.
#[derive(Debug, Clone)]
pub struct Shared {
    pub tx: mpsc::Sender<Input>,
    pub containerizer: Arc<Containerizer>,
}

/// The agent's routes.
pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/health", get(|| async { StatusCode::OK }))
        .route("/version", get(|| async { axum::Json(version()) }))
        .route("/state", get(state))
        .route("/monitor/statistics", get(statistics))
        .route("/monitor/statistics.json", get(statistics))
        .route("/api/v1", post(operator))
        .route("/api/v1/executor", post(executor::handle))
        .route("/sandbox/{container_id}/{file}", get(sandbox::read))
        .with_state(shared)
}

fn version() -> Value {
    json!({"version": VERSION, "corral_version": env!("CARGO_PKG_VERSION")})
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the agent is shutting down",
    )
        .into_response()
}

async fn ask<T>(shared: &Shared, make: impl FnOnce(oneshot::Sender<T>) -> Query) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    shared.tx.send(Input::Query(make(tx))).await.ok()?;
    rx.await.ok()
}

async fn agent_json(shared: &Shared) -> Option<Value> {
    let (info, controllers) = ask(shared, Query::Agent).await?;
    let mut v = corral_api::json::to_value(&info).ok()?;
    v["cgroup_controllers"] = json!(controllers);
    Some(v)
}

async fn state(State(shared): State<Shared>) -> Response {
    match agent_json(&shared).await {
        Some(v) => axum::Json(v).into_response(),
        None => unavailable(),
    }
}

/// Each live container with its statistics (read off the async threads).
async fn containers(shared: &Shared) -> Option<Vec<(ContainerView, ResourceStatistics)>> {
    let views = ask(shared, Query::Containers).await?;
    let cz = shared.containerizer.clone();
    tokio::task::spawn_blocking(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        views
            .into_iter()
            .filter_map(|v| {
                let stats = cz.usage(&v.container_id).ok()?;
                let s = usage::statistics(&v, &stats, now);
                Some((v, s))
            })
            .collect()
    })
    .await
    .ok()
}

fn stats_json(s: &ResourceStatistics) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// Every `every`, the live containers' usage to the loop, which sends it
/// to the master (one report replaces the last there). Ends with the loop.
pub async fn report_usage(shared: Shared, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(list) = containers(&shared).await else {
            return;
        };
        let report = list
            .into_iter()
            .map(|(v, statistics)| ContainerUsage {
                framework_id: v.framework_id,
                executor_id: corral_api::ExecutorId::new(v.task_id.as_str()),
                container_id: v.container_id.as_str().to_string(),
                task_ids: v.tasks,
                statistics,
            })
            .collect();
        if shared.tx.send(Input::Usage(report)).await.is_err() {
            return;
        }
    }
}

async fn statistics(State(shared): State<Shared>) -> Response {
    let Some(list) = containers(&shared).await else {
        return unavailable();
    };
    let out: Vec<Value> = list
        .into_iter()
        .map(|(v, s)| {
            json!({
                "executor_id": v.task_id.as_str(), "executor_name": v.name,
                "framework_id": v.framework_id.as_str(), "source": v.task_id.as_str(),
                "container_id": v.container_id.as_str(), "statistics": stats_json(&s),
            })
        })
        .collect();
    axum::Json(out).into_response()
}

async fn operator(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    let call: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("failed to parse the call: {e}"),
            )
                .into_response();
        }
    };
    let typ = call.get("type").and_then(Value::as_str).unwrap_or("");
    let answer = match typ {
        "GET_HEALTH" => Some(json!({"type": typ, "get_health": {"healthy": true}})),
        "GET_VERSION" => Some(json!({"type": typ, "get_version": {"version_info": version()}})),
        "GET_AGENT" => agent_json(&shared)
            .await
            .map(|a| json!({"type": typ, "get_agent": {"agent_info": a}})),
        "GET_CONTAINERS" => containers(&shared).await.map(|list| {
            let c: Vec<Value> = list
                .into_iter()
                .map(|(v, s)| {
                    json!({
                        "framework_id": {"value": v.framework_id.as_str()},
                        "executor_id": {"value": v.task_id.as_str()},
                        "executor_name": v.name,
                        "container_id": {"value": v.container_id.as_str()},
                        "container_status": {"executor_pid": v.pid},
                        "resource_statistics": stats_json(&s),
                    })
                })
                .collect();
            json!({"type": typ, "get_containers": {"containers": c}})
        }),
        "PRUNE_IMAGES" => return prune_images(&shared, &call).await,
        "" => return (StatusCode::BAD_REQUEST, "the call has no 'type'").into_response(),
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unsupported operator call {other:?}"),
            )
                .into_response();
        }
    };
    match answer {
        Some(v) => axum::Json(v).into_response(),
        None => unavailable(),
    }
}

/// The names of `prune_images.excluded_images` (Mesos' `Image` messages:
/// only DOCKER images have names here).
fn excluded_images(call: &Value) -> Result<Vec<String>, String> {
    let list = call
        .pointer("/prune_images/excluded_images")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    let images: Vec<corral_api::v1::Image> = corral_api::json::from_value(list)
        .map_err(|e| format!("prune_images.excluded_images: {e}"))?;
    images
        .into_iter()
        .enumerate()
        .map(|(i, img)| match img.docker {
            Some(d) if img.r#type == corral_api::v1::ImageType::Docker => Ok(d.name),
            _ => Err(format!(
                "prune_images.excluded_images[{i}]: only DOCKER images with a name are kept by name"
            )),
        })
        .collect()
}

/// PRUNE_IMAGES: the store's images no container uses are removed (off
/// the async threads); 200 with the folders removed (Mesos answers an
/// empty 200; the body is corral's).
async fn prune_images(shared: &Shared, call: &Value) -> Response {
    let excluded = match excluded_images(call) {
        Ok(names) => names,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let cz = shared.containerizer.clone();
    let pruned = tokio::task::spawn_blocking(move || cz.prune_images(&excluded)).await;
    match pruned {
        Ok(Ok(removed)) => axum::Json(json!({
            "type": "PRUNE_IMAGES",
            "prune_images": {"removed": removed},
        }))
        .into_response(),
        Ok(Err(crate::containerizer::ContainerizerError::Image(e))) => {
            (StatusCode::BAD_REQUEST, e.to_string()).into_response()
        }
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the prune thread failed: {e}"),
        )
            .into_response(),
    }
}
