//! Helpers around the scheduler client: building tasks and frameworks,
//! one-line event summaries, and raw requests for hostile-input tests.

use std::time::Duration;

use corral_api::TaskId;
use corral_api::json;
use corral_api::scheduler::Event;
use corral_api::v1::{CommandInfo, FrameworkInfo, Offer, Resource, Scalar, TaskInfo, TaskStatus};

use crate::http::{self, Target};

/// An event as one line of JSON, cut at 600 characters.
pub fn summary(event: &Event) -> String {
    let text = json::to_string(event).unwrap_or_else(|e| format!("<{e}>"));
    match text.char_indices().nth(600) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// POSTs `body` to `path` with exactly `headers` (plus `Host`,
/// `Content-Length` and `Connection: close` unless given) on a fresh
/// connection; returns status, headers and body (read for at most 10 s:
/// use [`Scheduler::try_subscribe`] for streams).
pub fn raw_post(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, String) {
    let target = Target::parse(url);
    let mut all = headers.to_vec();
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
    {
        all.push(("Connection", "close"));
    }
    let request = http::request_bytes("POST", &target, path, &all, body);
    let r = http::exchange(&target, &request, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("POST {path} to {url} failed: {e}"));
    let text = r.text();
    (r.status, r.headers, text)
}

/// A framework named `name` running tasks as the current user (`root` when
/// unknown), as most tests want.
pub fn framework(name: &str) -> FrameworkInfo {
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    FrameworkInfo::new(user, name)
}

/// A command task `cmd` named and identified `id`, on `offer`'s agent, using
/// `cpus` and `mem` copied from the offer's entries (role, allocation and
/// reservations kept). Panics when the offer has too little.
pub fn task_for(offer: &Offer, id: &str, cmd: &str, cpus: f64, mem: f64) -> TaskInfo {
    task_from(offer, id, cmd, (cpus, mem), |_| true)
}

/// `mib` of `offer`'s disk (its entry copied: role, allocation kept).
pub fn disk_from(offer: &Offer, mib: f64) -> Resource {
    let mut disk = offer
        .resources
        .iter()
        .find(|r| r.name == "disk")
        .cloned()
        .expect("the offer has disk");
    disk.scalar = Some(corral_api::v1::Scalar::new(mib));
    disk
}

/// As [`task_for`], taking `cpus` and `mem` from the offer's reserved
/// entries only (their reservation stack copied).
pub fn task_on_reserved(offer: &Offer, id: &str, cmd: &str, cpus: f64, mem: f64) -> TaskInfo {
    task_from(offer, id, cmd, (cpus, mem), |r| !r.reservations.is_empty())
}

fn task_from(
    offer: &Offer,
    id: &str,
    cmd: &str,
    (cpus, mem): (f64, f64),
    usable: impl Fn(&Resource) -> bool,
) -> TaskInfo {
    let take = |name: &str, amount: f64| -> Resource {
        let found = offer
            .resources
            .iter()
            .filter(|r| usable(r))
            .find(|r| r.name == name && r.scalar_value().is_some_and(|v| v >= amount))
            .unwrap_or_else(|| {
                panic!(
                    "offer {} has no {name} entry with {amount}: {offer:?}",
                    offer.id
                )
            });
        Resource {
            scalar: Some(Scalar::new(amount)),
            ..found.clone()
        }
    };
    TaskInfo {
        name: id.to_owned(),
        task_id: TaskId::new(id),
        agent_id: offer.agent_id.clone(),
        resources: vec![take("cpus", cpus), take("mem", mem)],
        command: Some(CommandInfo::shell(cmd)),
        ..TaskInfo::default()
    }
}

/// The agent's container id an update names (agents set it on every
/// update they send); panics when absent.
pub fn container_id(s: &TaskStatus) -> String {
    s.container_status
        .as_ref()
        .and_then(|c| c.container_id.as_ref())
        .map(|c| c.as_str().to_string())
        .expect("updates name their container")
}
