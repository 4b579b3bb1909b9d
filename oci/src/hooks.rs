//! OCI hooks: each runs as its own process with the container state as JSON
//! on stdin, its args (args[0] is its argv[0]) and env, and is killed when
//! its timeout passes. A failing hook fails the lifecycle step that ran it
//! (prestart, createRuntime); poststart and poststop failures are warnings.

use oci_spec::runtime::Hook;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A hook that failed, named by its phase, index and path.
#[derive(Debug, thiserror::Error)]
#[error("{phase} hook {index} ({path}): {problem}")]
pub struct HookError {
    pub phase: &'static str,
    pub index: usize,
    pub path: String,
    pub problem: String,
}

/// Runs `hooks` of `phase` in order with `state` (JSON) on stdin.
pub fn run(phase: &'static str, hooks: &[Hook], state: &[u8]) -> Result<(), HookError> {
    for (index, hook) in hooks.iter().enumerate() {
        let fail = |problem: String| HookError {
            phase,
            index,
            path: hook.path().display().to_string(),
            problem,
        };
        run_one(hook, state).map_err(fail)?;
    }
    Ok(())
}

fn run_one(hook: &Hook, state: &[u8]) -> Result<(), String> {
    let mut cmd = Command::new(hook.path());
    if let Some((arg0, rest)) = hook.args().as_deref().and_then(|a| a.split_first()) {
        cmd.arg0(arg0).args(rest);
    }
    if let Some(env) = hook.env() {
        cmd.env_clear();
        for kv in env {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that ignores its stdin may close it early: not an error.
        let _ = stdin.write_all(state);
    }
    let deadline = hook
        .timeout()
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("waiting: {e}"))? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("exited with {status}"))
            };
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "timed out after {} s and was killed",
                hook.timeout().unwrap_or(0)
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(json: &str) -> Hook {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn hooks_get_state_on_stdin_and_their_args() {
        let dir = std::env::temp_dir().join(format!("corral-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("out");
        let h = hook(&format!(
            r#"{{"path":"/bin/sh","args":["sh","-c","cat > {} && echo \"$0 $1 $X\" >> {}","zero","one"],"env":["X=y"]}}"#,
            out.display(),
            out.display()
        ));
        run("prestart", &[h], b"{\"id\":\"c\"}").unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(got, "{\"id\":\"c\"}zero one y\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_and_timeout_name_the_hook() {
        let e = run("createRuntime", &[hook(r#"{"path":"/bin/false"}"#)], b"{}").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("createRuntime hook 0 (/bin/false): exited"),
            "{e}"
        );
        let e = run(
            "prestart",
            &[hook(
                r#"{"path":"/bin/sleep","args":["sleep","10"],"timeout":1}"#,
            )],
            b"{}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("timed out after 1 s"), "{e}");
        let e = run("poststop", &[hook(r#"{"path":"/nonexistent"}"#)], b"{}").unwrap_err();
        assert!(e.to_string().contains("cannot start"), "{e}");
    }
}
