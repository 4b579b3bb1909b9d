//! The cluster as the operator commands show it: the master's GET_STATE
//! answer read into agents, frameworks and tasks, each turned into a table
//! row or a JSON object with the same fields. Pure.

use super::table::Table;
use anyhow::{Context, Result, anyhow};
use corral_api::v1::{AgentInfo, FrameworkInfo, Resource, Task, scalar_sum};
use serde_json::{Value, json};
use std::collections::HashMap;

/// One agent.
#[derive(Debug, Clone)]
pub struct Agent {
    pub info: AgentInfo,
    pub active: bool,
    pub total: Vec<Resource>,
}

/// One framework.
#[derive(Debug, Clone)]
pub struct Framework {
    pub info: FrameworkInfo,
    pub active: bool,
}

/// GET_STATE, read.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub agents: Vec<Agent>,
    pub frameworks: Vec<Framework>,
    /// Every task the master tracks (unreachable ones included).
    pub tasks: Vec<Task>,
}

fn list<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut at = v;
    for p in path {
        at = &at[*p];
    }
    at.as_array().map_or(&[], Vec::as_slice)
}

fn typed<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T> {
    corral_api::json::from_value(v.clone()).map_err(|e| anyhow!("{what}: {e}"))
}

impl Cluster {
    /// Reads the body of a GET_STATE answer.
    pub fn from_state(body: &[u8]) -> Result<Cluster> {
        let v: Value = serde_json::from_slice(body).context("the master's GET_STATE answer")?;
        let s = &v["get_state"];
        if !s.is_object() {
            return Err(anyhow!("the master's answer has no get_state: {v}"));
        }
        let mut c = Cluster::default();
        for a in list(s, &["get_agents", "agents"]) {
            c.agents.push(Agent {
                info: typed(&a["agent_info"], "agent_info")?,
                active: a["active"].as_bool().unwrap_or(false),
                total: typed(&a["total_resources"], "total_resources").unwrap_or_default(),
            });
        }
        for f in list(s, &["get_frameworks", "frameworks"]) {
            c.frameworks.push(Framework {
                info: typed(&f["framework_info"], "framework_info")?,
                active: f["active"].as_bool().unwrap_or(false),
            });
        }
        for key in ["tasks", "unreachable_tasks"] {
            for t in list(s, &["get_tasks", key]) {
                c.tasks.push(typed(t, "task")?);
            }
        }
        Ok(c)
    }

    fn live_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| !t.state.is_terminal())
    }

    fn hostname(&self, id: &corral_api::AgentId) -> String {
        self.agents
            .iter()
            .find(|a| a.info.id.as_ref() == Some(id))
            .map_or_else(|| id.to_string(), |a| a.info.hostname.clone())
    }

    fn framework_name(&self, id: &corral_api::FrameworkId) -> String {
        self.frameworks
            .iter()
            .find(|f| f.info.id.as_ref() == Some(id))
            .map_or_else(|| id.to_string(), |f| f.info.name.clone())
    }

    /// One object per agent: id, hostname, active, tasks, and cpus, mem
    /// (MiB) and disk (MiB) used by its live tasks and in total.
    pub fn agents_json(&self) -> Vec<Value> {
        let mut by_agent: HashMap<&str, Vec<&Task>> = HashMap::new();
        for t in self.live_tasks() {
            by_agent.entry(t.agent_id.as_str()).or_default().push(t);
        }
        self.agents
            .iter()
            .map(|a| {
                let id = a.info.id.as_ref().map_or("", |i| i.as_str());
                let tasks = by_agent.get(id).map_or(&[][..], Vec::as_slice);
                let used = |name: &str| {
                    tasks
                        .iter()
                        .map(|t| scalar_sum(&t.resources, name))
                        .sum::<f64>()
                };
                json!({
                    "id": id, "hostname": a.info.hostname, "active": a.active,
                    "tasks": tasks.len(),
                    "cpus_used": used("cpus"), "cpus": scalar_sum(&a.total, "cpus"),
                    "mem_used": used("mem"), "mem": scalar_sum(&a.total, "mem"),
                    "disk_used": used("disk"), "disk": scalar_sum(&a.total, "disk"),
                })
            })
            .collect()
    }

    /// One object per framework: id, name, roles, active, live tasks.
    pub fn frameworks_json(&self) -> Vec<Value> {
        self.frameworks
            .iter()
            .map(|f| {
                let id = f.info.id.as_ref().map_or("", |i| i.as_str());
                let mut roles = f.info.roles.clone();
                if roles.is_empty() {
                    roles.push(f.info.role.clone().unwrap_or_else(|| "*".into()));
                }
                let tasks = self
                    .live_tasks()
                    .filter(|t| t.framework_id.as_str() == id)
                    .count();
                json!({
                    "id": id, "name": f.info.name, "roles": roles,
                    "active": f.active, "tasks": tasks,
                })
            })
            .collect()
    }

    /// One object per task: id, name, state, framework (id and name),
    /// agent (id and hostname), cpus, mem (MiB).
    pub fn tasks_json(&self) -> Vec<Value> {
        self.tasks
            .iter()
            .map(|t| {
                json!({
                    "id": t.task_id.as_str(), "name": t.name,
                    "state": t.state.name(),
                    "framework_id": t.framework_id.as_str(),
                    "framework": self.framework_name(&t.framework_id),
                    "agent_id": t.agent_id.as_str(),
                    "agent": self.hostname(&t.agent_id),
                    "cpus": scalar_sum(&t.resources, "cpus"),
                    "mem": scalar_sum(&t.resources, "mem"),
                })
            })
            .collect()
    }
}

fn num(v: &Value) -> String {
    // `+ 0.0`: an empty sum is -0.0, printed "-0".
    match v.as_f64().map(|x| x + 0.0) {
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}").trim_end_matches('0').to_string(),
        None => String::new(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(","),
        other => num(other),
    }
}

fn used_of(o: &Value, name: &str) -> String {
    format!("{}/{}", num(&o[format!("{name}_used")]), num(&o[name]))
}

/// The agents table.
pub fn agents_table(rows: &[Value]) -> String {
    let mut t = Table::new(&[
        "ID",
        "HOSTNAME",
        "ACTIVE",
        "TASKS>",
        "CPUS>",
        "MEM MiB>",
        "DISK MiB>",
    ]);
    for o in rows {
        t.row(vec![
            text(&o["id"]),
            text(&o["hostname"]),
            text(&o["active"]),
            num(&o["tasks"]),
            used_of(o, "cpus"),
            used_of(o, "mem"),
            used_of(o, "disk"),
        ]);
    }
    t.render()
}

/// The frameworks table.
pub fn frameworks_table(rows: &[Value]) -> String {
    let mut t = Table::new(&["ID", "NAME", "ROLES", "ACTIVE", "TASKS>"]);
    for o in rows {
        t.row(
            ["id", "name", "roles", "active", "tasks"]
                .map(|k| text(&o[k]))
                .to_vec(),
        );
    }
    t.render()
}

/// The tasks table.
pub fn tasks_table(rows: &[Value]) -> String {
    let mut t = Table::new(&[
        "ID",
        "STATE",
        "NAME",
        "FRAMEWORK",
        "AGENT",
        "CPUS>",
        "MEM MiB>",
    ]);
    for o in rows {
        t.row(
            ["id", "state", "name", "framework", "agent", "cpus", "mem"]
                .map(|k| text(&o[k]))
                .to_vec(),
        );
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATE: &str = r#"{"type":"GET_STATE","get_state":{
      "get_agents":{"agents":[{"agent_info":{"hostname":"h1","id":{"value":"a1"},
          "resources":[]},"active":true,
          "total_resources":[
            {"name":"cpus","type":"SCALAR","scalar":{"value":4}},
            {"name":"mem","type":"SCALAR","scalar":{"value":4096}}]}]},
      "get_frameworks":{"frameworks":[{"framework_info":{"user":"u","name":"web",
          "id":{"value":"f1"},"roles":["prod"]},"active":true}]},
      "get_tasks":{"tasks":[
        {"name":"n1","task_id":{"value":"t1"},"framework_id":{"value":"f1"},
         "agent_id":{"value":"a1"},"state":"TASK_RUNNING","resources":[
           {"name":"cpus","type":"SCALAR","scalar":{"value":0.5}},
           {"name":"mem","type":"SCALAR","scalar":{"value":128}}]},
        {"name":"n2","task_id":{"value":"t2"},"framework_id":{"value":"f1"},
         "agent_id":{"value":"a1"},"state":"TASK_FINISHED","resources":[
           {"name":"cpus","type":"SCALAR","scalar":{"value":1}}]}],
        "unreachable_tasks":[]}}}"#;

    #[test]
    fn agents_show_what_their_live_tasks_use() {
        let c = Cluster::from_state(STATE.as_bytes()).unwrap();
        let rows = c.agents_json();
        assert_eq!(rows[0]["tasks"], 1);
        assert_eq!(rows[0]["cpus_used"], 0.5);
        assert_eq!(rows[0]["mem"], 4096.0);
        assert_eq!(
            agents_table(&rows),
            "ID  HOSTNAME  ACTIVE  TASKS   CPUS   MEM MiB  DISK MiB\n\
             a1  h1        yes         1  0.5/4  128/4096       0/0\n"
        );
    }

    #[test]
    fn frameworks_and_tasks_name_each_other() {
        let c = Cluster::from_state(STATE.as_bytes()).unwrap();
        let f = c.frameworks_json();
        assert_eq!(f[0]["roles"], json!(["prod"]));
        assert_eq!(f[0]["tasks"], 1);
        let t = c.tasks_json();
        assert_eq!(t[0]["framework"], "web");
        assert_eq!(t[0]["agent"], "h1");
        assert_eq!(t[1]["state"], "TASK_FINISHED");
        let table = tasks_table(&t);
        assert!(
            table.starts_with("ID  STATE          NAME  FRAMEWORK  AGENT  CPUS  MEM MiB\n"),
            "{table}"
        );
        assert!(
            table.contains("t1  TASK_RUNNING   n1    web        h1      0.5      128\n"),
            "{table}"
        );
    }

    #[test]
    fn a_body_that_is_not_get_state_is_refused() {
        let e = Cluster::from_state(br#"{"type":"GET_HEALTH"}"#).unwrap_err();
        assert!(e.to_string().contains("no get_state"), "{e}");
        assert!(Cluster::from_state(b"{oops").is_err());
    }
}
