//! The small endpoints: `/version` (a purely numeric Mesos version, which
//! clients parse), `/health`, `/metrics` (Prometheus text), and the
//! operator API at `/api/v1` (Mesos' `mesos.v1.master.Call` answered in the
//! sub-object named after the lower-cased call type).

use super::{Shared, check_content_type, error, gone};
use crate::core::{CallError, Command, OperatorAction};
use crate::view::View;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The Mesos API version corral implements.
pub const MESOS_VERSION: &str = "1.11.0";

pub(super) async fn version() -> Response {
    axum::Json(json!({
        "version": MESOS_VERSION,
        "build_user": "corral",
        "git_tag": format!("corral-{}", env!("CARGO_PKG_VERSION")),
    }))
    .into_response()
}

pub(super) async fn health() -> Response {
    StatusCode::OK.into_response()
}

async fn view(shared: &Shared) -> Result<View, CallError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    shared
        .master
        .send(Command::Inspect(tx))
        .map_err(|_| gone())?;
    rx.await.map_err(|_| gone())
}

pub(super) async fn metrics(State(shared): State<Shared>) -> Response {
    match view(&shared).await {
        Ok(v) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            prometheus(&v),
        )
            .into_response(),
        Err(e) => error(e),
    }
}

/// Prometheus text exposition of the view.
fn prometheus(v: &View) -> String {
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    let active = v.agents.iter().filter(|a| a.active).count();
    let unreachable = v.agents.iter().filter(|a| a.unreachable).count();
    gauge(
        "corral_master_agents_active",
        "Agents connected.",
        active as f64,
    );
    gauge(
        "corral_master_agents_unreachable",
        "Agents unreachable.",
        unreachable as f64,
    );
    let connected = v.frameworks.iter().filter(|f| f.connected).count();
    gauge(
        "corral_master_frameworks_connected",
        "Frameworks subscribed.",
        connected as f64,
    );
    gauge(
        "corral_master_frameworks_disconnected",
        "Frameworks within their failover timeout.",
        (v.frameworks.len() - connected) as f64,
    );
    gauge(
        "corral_master_offers_outstanding",
        "Offers not yet answered.",
        v.offers as f64,
    );
    gauge(
        "corral_master_uptime_seconds",
        "Seconds since start.",
        v.uptime.as_secs_f64(),
    );
    let mut by_state = std::collections::BTreeMap::new();
    for t in &v.tasks {
        *by_state
            .entry(corral_api::json::ProtoEnum::name(t.state))
            .or_insert(0u64) += 1;
    }
    let _ = writeln!(
        out,
        "# HELP corral_master_tasks Tasks tracked, by state.\n# TYPE corral_master_tasks gauge"
    );
    for (state, n) in by_state {
        let _ = writeln!(out, "corral_master_tasks{{state=\"{state}\"}} {n}");
    }
    let c = &v.counters;
    for (name, help, value) in [
        (
            "corral_master_offers_sent_total",
            "Offers sent.",
            c.offers_sent,
        ),
        (
            "corral_master_offers_declined_total",
            "Offers declined.",
            c.offers_declined,
        ),
        (
            "corral_master_offers_rescinded_total",
            "Offers rescinded.",
            c.offers_rescinded,
        ),
        (
            "corral_master_tasks_launched_total",
            "Tasks launched.",
            c.tasks_launched,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    histogram(&mut out, &c.allocation_seconds);
    out
}

fn histogram(out: &mut String, samples: &[f64]) {
    let name = "corral_master_allocation_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} Allocation pass duration (recent passes).\n# TYPE {name} histogram"
    );
    for le in [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0] {
        let n = samples.iter().filter(|s| **s <= le).count();
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", samples.len());
    let _ = writeln!(out, "{name}_sum {}", samples.iter().sum::<f64>());
    let _ = writeln!(out, "{name}_count {}", samples.len());
}

pub(super) async fn operator(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        check_content_type(&headers)?;
        let call: Value = serde_json::from_slice(&body)
            .map_err(|e| CallError::bad_request(format!("failed to parse the call: {e}")))?;
        let kind = call
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| CallError::bad_request("expecting 'type' to be present"))?
            .to_string();
        if let Some(action) = action(&kind, &call)? {
            super::ask(&shared, |reply| Command::Operator { action, reply }).await?;
            // Mesos answers its void operator calls 200 with no body.
            return Ok(Value::Null);
        }
        let v = view(&shared).await?;
        let payload = answer(&kind, &v)?;
        let key = kind.to_lowercase();
        Ok::<Value, CallError>(json!({ "type": kind, key: payload }))
    }
    .await;
    match result {
        Ok(Value::Null) => StatusCode::OK.into_response(),
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(e),
    }
}

/// The action an operator call asks for, if it is one (TEARDOWN,
/// KILL_TASK); its payload's problems name the field.
fn action(kind: &str, call: &Value) -> Result<Option<OperatorAction>, CallError> {
    fn id<T: serde::de::DeserializeOwned>(
        payload: &Value,
        call: &str,
        field: &str,
    ) -> Result<Option<T>, CallError> {
        match payload.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => corral_api::json::from_value(v.clone())
                .map(Some)
                .map_err(|e| CallError::bad_request(format!("{call}.{field}: {e}"))),
        }
    }
    let key = kind.to_lowercase();
    let payload = call.get(&key).cloned().unwrap_or(Value::Null);
    let required =
        |field: &str| CallError::bad_request(format!("{key}.{field}: expecting it to be present"));
    Ok(match kind {
        "KILL_TASK" => Some(OperatorAction::KillTask {
            framework_id: id(&payload, &key, "framework_id")?,
            task_id: id(&payload, &key, "task_id")?.ok_or_else(|| required("task_id"))?,
        }),
        "TEARDOWN" => Some(OperatorAction::Teardown {
            framework_id: id(&payload, &key, "framework_id")?
                .ok_or_else(|| required("framework_id"))?,
        }),
        _ => None,
    })
}

fn wire<T: serde::Serialize>(v: &T) -> Value {
    corral_api::json::to_value(v).unwrap_or(Value::Null)
}

fn time(secs: f64) -> Value {
    json!({ "nanoseconds": (secs * 1e9) as i64 })
}

/// The payload of an operator call.
fn answer(kind: &str, v: &View) -> Result<Value, CallError> {
    Ok(match kind {
        "GET_HEALTH" => json!({ "healthy": true }),
        "GET_VERSION" => json!({ "version_info": { "version": MESOS_VERSION } }),
        "GET_MASTER" => json!({ "master_info": wire(&v.master) }),
        "GET_AGENTS" => agents(v),
        "GET_FRAMEWORKS" => frameworks(v),
        "GET_TASKS" => tasks(v),
        "GET_ROLES" => roles(v),
        "GET_CONTAINERS" => containers(v),
        "GET_EXECUTORS" => executors(v),
        "GET_METRICS" => json!({ "metrics": [
            { "name": "master/tasks_launched", "value": v.counters.tasks_launched as f64 },
            { "name": "master/outstanding_offers", "value": v.offers as f64 },
            { "name": "master/uptime_secs", "value": v.uptime.as_secs_f64() },
        ] }),
        "GET_STATE" => json!({
            "get_tasks": tasks(v),
            "get_executors": executors(v),
            "get_frameworks": frameworks(v),
            "get_agents": agents(v),
        }),
        other => {
            return Err(CallError::bad_request(format!(
                "operator call '{other}' is not supported by corral"
            )));
        }
    })
}

/// GET_EXECUTORS: each running executor with its agent (Mesos' shape; the
/// master keeps no orphans: an executor of an unknown framework is not
/// tracked).
fn executors(v: &View) -> Value {
    let executors: Vec<Value> = v
        .agents
        .iter()
        .flat_map(|a| a.executors.iter().map(move |e| (a, e)))
        .map(|(a, e)| json!({ "agent_id": wire(&a.info.id), "executor_info": wire(e) }))
        .collect();
    json!({ "executors": executors, "orphan_executors": [] })
}

fn agents(v: &View) -> Value {
    let agents: Vec<Value> = v
        .agents
        .iter()
        .map(|a| {
            json!({
                "agent_info": wire(&a.info),
                "active": a.active,
                "version": MESOS_VERSION,
                "registered_time": time(a.registered_at),
                "total_resources": wire(&a.total),
                "reserved_resources": wire(&a.reserved),
            })
        })
        .collect();
    json!({ "agents": agents })
}

/// corral's: Mesos serves GET_CONTAINERS on agents only; the master
/// answers it for the whole cluster from the agents' usage reports, in the
/// agent's shape plus each container's `agent_id` and `task_ids`.
fn containers(v: &View) -> Value {
    let containers: Vec<Value> = v
        .agents
        .iter()
        .flat_map(|a| a.usage.iter().map(move |c| (a, c)))
        .map(|(a, c)| {
            json!({
                "agent_id": wire(&a.info.id),
                "framework_id": wire(&c.framework_id),
                "executor_id": wire(&c.executor_id),
                "container_id": { "value": c.container_id },
                "task_ids": wire(&c.task_ids),
                "resource_statistics": wire(&c.statistics),
            })
        })
        .collect();
    json!({ "containers": containers })
}

fn frameworks(v: &View) -> Value {
    let fws: Vec<Value> = v
        .frameworks
        .iter()
        .map(|f| {
            json!({
                "framework_info": wire(&f.info),
                "active": f.connected,
                "connected": f.connected,
                "recovered": false,
                "registered_time": time(f.registered_at),
            })
        })
        .collect();
    json!({ "frameworks": fws })
}

fn tasks(v: &View) -> Value {
    let (unreachable, tasks): (Vec<_>, Vec<_>) = v
        .tasks
        .iter()
        .partition(|t| t.state == corral_api::v1::TaskState::Unreachable);
    json!({
        "tasks": tasks.iter().map(wire).collect::<Vec<_>>(),
        "unreachable_tasks": unreachable.iter().map(wire).collect::<Vec<_>>(),
    })
}

fn roles(v: &View) -> Value {
    let mut roles: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for f in &v.frameworks {
        for r in f.info.effective_roles() {
            roles.entry(r).or_default().push(wire(&f.info.id));
        }
    }
    let list: Vec<Value> = roles
        .into_iter()
        .map(|(name, fws)| json!({ "name": name, "weight": 1.0, "frameworks": fws }))
        .collect();
    json!({ "roles": list })
}
