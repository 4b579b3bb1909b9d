//! Following a task's output for `corral run`: the agent serves the
//! task's sandbox `stdout` and `stderr` from `GET /sandbox/CID/FILE?offset=N`
//! (`agent/src/http/sandbox.rs`); this polls both from where it left off
//! and copies what is new to this process's stdout and stderr.

use crate::client;
use anyhow::{Result, bail};
use std::io::Write;

/// The most the agent returns at once (a shorter answer means caught up).
const CHUNK: usize = 1024 * 1024;

/// Where a task's output is read and how far.
#[derive(Debug)]
pub struct Tail {
    agent: String,
    container_id: String,
    offsets: [u64; 2],
}

const FILES: [&str; 2] = ["stdout", "stderr"];

impl Tail {
    /// Follows the sandbox of `container_id` on the agent at `HOST:PORT`.
    pub fn new(agent: String, container_id: String) -> Tail {
        Tail {
            agent,
            container_id,
            offsets: [0, 0],
        }
    }

    /// The agent's `HOST:PORT`.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// Copies what both files gained since the last poll. A file not there
    /// yet is empty.
    pub async fn poll(&mut self) -> Result<()> {
        for (i, file) in FILES.iter().enumerate() {
            loop {
                let path = format!(
                    "/sandbox/{}/{file}?offset={}",
                    self.container_id, self.offsets[i]
                );
                let (status, body) = client::exchange(&self.agent, "GET", &path, None).await?;
                match status {
                    200 => {}
                    404 => break,
                    _ => bail!(
                        "the agent answered {status} for the task's {file}: {}",
                        String::from_utf8_lossy(&body).trim()
                    ),
                }
                if !body.is_empty() {
                    let written = if i == 0 {
                        let mut out = std::io::stdout().lock();
                        out.write_all(&body).and_then(|()| out.flush())
                    } else {
                        let mut err = std::io::stderr().lock();
                        err.write_all(&body).and_then(|()| err.flush())
                    };
                    // A closed stdout (`corral run ... | head`) ends the copy, not the run.
                    if written.is_err() {
                        self.offsets[i] = u64::MAX / 2;
                        break;
                    }
                    self.offsets[i] += body.len() as u64;
                }
                if body.len() < CHUNK {
                    break;
                }
            }
        }
        Ok(())
    }
}
