//! The bare runtime beside the agent: `crun run` of the tasks' command, in
//! a bundle built as the oci-lifecycle bench builds its own (busybox-static
//! root, corral's default spec) but with the namespaces the agent gives a
//! task (pid, ipc, uts, mount, cgroup: no network namespace) and the
//! task's limits; run one after another, each timed from spawn to exit
//! (`crun run` creates, starts, waits and deletes).

use serde_json::{Value, json};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::framework::Size;

/// The bundle at `dir`: `sh -c CMD` with the task's limits.
pub(crate) fn bundle(dir: &Path, cmd: &str, size: Size) -> Result<PathBuf, String> {
    let io = |what: &str, p: &Path| {
        let what = format!("{what} {}", p.display());
        move |e: std::io::Error| format!("{what}: {e}")
    };
    let _ = fs::remove_dir_all(dir);
    let bin = dir.join("rootfs/bin");
    fs::create_dir_all(&bin).map_err(io("creating", &bin))?;
    for d in ["proc", "dev", "sys", "tmp", "etc"] {
        let p = dir.join("rootfs").join(d);
        fs::create_dir_all(&p).map_err(io("creating", &p))?;
    }
    fs::copy("/bin/busybox", bin.join("busybox"))
        .map_err(io("copying /bin/busybox (package busybox-static) to", &bin))?;
    for applet in ["true", "sh", "sleep"] {
        std::os::unix::fs::symlink("busybox", bin.join(applet))
            .map_err(io("linking", &bin.join(applet)))?;
    }
    let mut spec: Value =
        serde_json::from_str(corral_oci::spec::DEFAULT_SPEC).map_err(|e| e.to_string())?;
    spec["process"]["args"] = json!(["sh", "-c", cmd]);
    spec["process"]["env"] = json!(["PATH=/bin"]);
    spec["linux"]["namespaces"] = json!([
        {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}
    ]);
    let mem = (size.mem as u64) << 20;
    spec["linux"]["resources"]["memory"] = json!({ "limit": mem, "swap": mem });
    spec["linux"]["resources"]["pids"] = json!({ "limit": 4096 });
    // The agent runs with --cgroups-enable-cfs=false: a weight, no cpu.max.
    let shares = (size.cpus * 1024.0).round() as u64;
    spec["linux"]["resources"]["cpu"] = json!({ "shares": shares });
    let config = dir.join("config.json");
    let text = serde_json::to_vec_pretty(&spec).map_err(|e| e.to_string())?;
    fs::write(&config, text).map_err(io("writing", &config))?;
    Ok(dir.to_path_buf())
}

/// `crun --root ROOT run --bundle B ID` `warmup + runs` times in a row;
/// the times of the last `runs`.
pub(crate) fn run_times(
    crun: &Path,
    work: &Path,
    bundle: &Path,
    warmup: usize,
    runs: usize,
) -> Result<Vec<Duration>, String> {
    let root = work.join("crun-root");
    let log_path = work.join("crun.log");
    let log =
        File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let mut times = Vec::with_capacity(runs);
    for i in 0..warmup + runs {
        let id = format!("agent-bench-crun-{i}");
        let stderr = log
            .try_clone()
            .map_err(|e| format!("dup of the log: {e}"))?;
        let t = Instant::now();
        let status = Command::new(crun)
            .arg("--root")
            .arg(&root)
            .args(["run", "--bundle"])
            .arg(bundle)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .map_err(|e| format!("running {}: {e}", crun.display()))?;
        let took = t.elapsed();
        if !status.success() {
            let _ = Command::new(crun)
                .arg("--root")
                .arg(&root)
                .args(["delete", "--force", &id])
                .stderr(Stdio::null())
                .status();
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            let tail = text.get(text.len().saturating_sub(2000)..).unwrap_or(&text);
            return Err(format!(
                "crun run {id} failed ({status}); its stderr:\n{tail}"
            ));
        }
        if i >= warmup {
            times.push(took);
        }
    }
    Ok(times)
}

/// `crun --version`'s first line.
pub(crate) fn version(crun: &Path) -> String {
    let out = Command::new(crun).arg("--version").output();
    let text = out.map(|o| o.stdout).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    text.lines().next().unwrap_or("?").to_string()
}

/// `name` in PATH.
pub(crate) fn find_in_path(name: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed: apt-get install {name}"))
}
