//! The operator commands: `corral agents`, `corral frameworks`,
//! `corral tasks` (tables, or `--json`), `corral kill TASK` and
//! `corral top` (per-task CPU, memory, I/O and pressure, refreshed live),
//! all over the master's operator API (`POST /api/v1`: GET_STATE,
//! GET_CONTAINERS, KILL_TASK).

mod rows;
mod table;
mod top;

use crate::client;
use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// The master's URL, for every operator command.
#[derive(Debug, clap::Args)]
pub struct MasterArg {
    /// The master's URL.
    #[arg(long, default_value = "http://127.0.0.1:5050")]
    master: String,
}

/// `corral agents|frameworks|tasks`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    master: MasterArg,
    /// One JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// `corral kill`.
#[derive(Debug, clap::Args)]
pub struct KillArgs {
    #[command(flatten)]
    master: MasterArg,
    /// The task's framework, when its id is not unique.
    #[arg(long)]
    framework: Option<String>,
    /// The task's id.
    task: String,
}

/// `corral top`.
#[derive(Debug, clap::Args)]
pub struct TopArgs {
    #[command(flatten)]
    master: MasterArg,
    /// Seconds between refreshes.
    #[arg(long, default_value_t = 2.0)]
    interval: f64,
    /// Stop after this many refreshes (default: until interrupted).
    #[arg(short = 'n', long)]
    iterations: Option<u64>,
    /// One JSON array per refresh (a line each) instead of a table.
    #[arg(long)]
    json: bool,
}

/// What `corral agents|frameworks|tasks` lists.
#[derive(Debug, Clone, Copy)]
pub enum What {
    Agents,
    Frameworks,
    Tasks,
}

fn block_on<F: std::future::Future<Output = Result<i32>>>(name: &str, f: F) -> i32 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match rt {
        Ok(rt) => rt.block_on(f),
        Err(e) => Err(anyhow!("starting the async runtime: {e}")),
    };
    result.unwrap_or_else(|e| {
        eprintln!("corral {name}: {e:#}");
        1
    })
}

/// Posts an operator call; the answer's body when it is 200.
async fn operator(master: &MasterArg, call: Value) -> Result<bytes::Bytes> {
    let authority = client::authority(&master.master, 5050)?;
    let kind = call["type"].as_str().unwrap_or_default().to_string();
    let (status, body) = client::exchange(
        &authority,
        "POST",
        "/api/v1",
        Some(serde_json::to_vec(&call)?),
    )
    .await?;
    if status != 200 {
        bail!(
            "the master at {authority} answered {kind} with {status}: {}",
            String::from_utf8_lossy(&body).trim()
        );
    }
    Ok(body)
}

/// `corral agents|frameworks|tasks`; the exit code.
pub fn list(what: What, args: ListArgs) -> i32 {
    let name = match what {
        What::Agents => "agents",
        What::Frameworks => "frameworks",
        What::Tasks => "tasks",
    };
    block_on(name, async move {
        let body = operator(&args.master, json!({"type": "GET_STATE"})).await?;
        let cluster = rows::Cluster::from_state(&body)?;
        let objects = match what {
            What::Agents => cluster.agents_json(),
            What::Frameworks => cluster.frameworks_json(),
            What::Tasks => cluster.tasks_json(),
        };
        if args.json {
            println!("{}", Value::Array(objects));
        } else {
            let table = match what {
                What::Agents => rows::agents_table(&objects),
                What::Frameworks => rows::frameworks_table(&objects),
                What::Tasks => rows::tasks_table(&objects),
            };
            print!("{table}");
        }
        Ok(0)
    })
}

/// `corral kill TASK`; the exit code.
pub fn kill(args: KillArgs) -> i32 {
    block_on("kill", async move {
        let mut payload = json!({"task_id": {"value": args.task}});
        if let Some(f) = &args.framework {
            payload["framework_id"] = json!({"value": f});
        }
        operator(
            &args.master,
            json!({"type": "KILL_TASK", "kill_task": payload}),
        )
        .await?;
        println!("kill of task {} sent", args.task);
        Ok(0)
    })
}

/// `corral top`; the exit code.
pub fn top(args: TopArgs) -> i32 {
    block_on("top", async move {
        if !(args.interval.is_finite() && args.interval > 0.0) {
            bail!(
                "--interval {}: expected a positive number of seconds",
                args.interval
            );
        }
        let every = Duration::from_secs_f64(args.interval);
        let call = json!({"type": "GET_CONTAINERS"});
        let mut prev = top::samples(&operator(&args.master, call.clone()).await?)?;
        let tty = std::io::stdout().is_terminal() && !args.json;
        let mut done = 0;
        while args.iterations.is_none_or(|n| done < n) {
            tokio::time::sleep(every).await;
            let now = top::samples(&operator(&args.master, call.clone()).await?)?;
            let rows = top::rows(&prev, &now);
            let mut out = std::io::stdout().lock();
            if args.json {
                writeln!(out, "{}", Value::Array(rows))?;
            } else {
                if tty {
                    // Home and clear: one screen, redrawn.
                    write!(out, "\x1b[H\x1b[2J")?;
                } else if done > 0 {
                    writeln!(out)?;
                }
                write!(out, "{}", top::table(&rows))?;
            }
            out.flush()?;
            prev = now;
            done += 1;
        }
        Ok(0)
    })
}
