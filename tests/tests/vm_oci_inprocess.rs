//! The corral-oci library driven in-process, as the agent drives it: `run`
//! (create and start in one call), the init a child of the calling
//! process, and containers launched from a busy multi-threaded process —
//! the agent's case, where the cloned child must not depend on any lock or
//! thread list it copied from its parent. Runs inside the VM only.
//!
//! Each test keeps its state root in a temporary folder and its cgroups
//! under `/sys/fs/cgroup/corral-test-inproc-<name>-<pid>`; a guard
//! force-deletes every container it ran and removes both, even on panic.

use corral_oci::{ContainerId, CreateOptions, Runtime, RuntimeError};
use corral_tests::bundle::TestBundle;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A runtime with its own state root and cgroup parent, cleaned on drop.
struct Lib {
    rt: Runtime,
    root: PathBuf,
    cgroup_parent: String,
    ids: Vec<ContainerId>,
}

impl Lib {
    fn new(name: &str) -> Lib {
        corral_tests::vm::require();
        let root =
            std::env::temp_dir().join(format!("corral-inproc-{name}-{}", std::process::id()));
        Lib {
            rt: Runtime::new(&root, "/sys/fs/cgroup"),
            root,
            cgroup_parent: format!("corral-test-inproc-{name}-{}", std::process::id()),
            ids: Vec::new(),
        }
    }

    /// Points `bundle`'s cgroup under this test's parent.
    fn place(&self, bundle: &mut TestBundle, id: &str) {
        let path = format!("/{}/{id}", self.cgroup_parent);
        bundle.edit(|s| s["linux"]["cgroupsPath"] = path.into());
    }

    fn cgroup(&self, id: &str) -> PathBuf {
        Path::new("/sys/fs/cgroup")
            .join(&self.cgroup_parent)
            .join(id)
    }

    fn run(&mut self, id: &str, bundle: &Path) -> Result<i32, RuntimeError> {
        let cid = ContainerId::new(id).unwrap();
        self.ids.push(cid.clone());
        let (state, warnings) = self.rt.run(&cid, bundle, &CreateOptions::default())?;
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(state.pid > 0);
        assert_eq!(
            state.status.to_string(),
            "running",
            "run returns a running container"
        );
        Ok(state.pid)
    }

    fn delete(&self, id: &str) {
        self.rt
            .delete(&ContainerId::new(id).unwrap(), false)
            .unwrap_or_else(|e| panic!("delete {id}: {e}"));
        assert!(!self.cgroup(id).exists(), "delete left {id}'s cgroup");
        assert!(
            !self.rt.list().unwrap().iter().any(|c| c.to_string() == id),
            "delete left {id}'s state"
        );
    }
}

impl Drop for Lib {
    fn drop(&mut self) {
        for id in &self.ids {
            let _ = self.rt.delete(id, true);
        }
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&self.cgroup_parent));
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Waits for our child `pid` up to `limit`; its exit code. A hang fails
/// the test (the guard then kills the container).
fn wait_exit(pid: i32, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out-pointer.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG | libc::__WALL) };
        if got == pid {
            assert!(libc::WIFEXITED(status), "init {pid} died: {status:#x}");
            return libc::WEXITSTATUS(status);
        }
        assert!(
            got == 0,
            "waitpid({pid}): {}",
            std::io::Error::last_os_error()
        );
        assert!(Instant::now() < deadline, "container init {pid} hung");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A bundle running `script` as uid/gid 1000 with supplementary group 44,
/// on a writable root with a world-writable /tmp.
fn bundle_as_user(name: &str, script: &str) -> TestBundle {
    use std::os::unix::fs::PermissionsExt;
    let mut b = TestBundle::busybox(name, &["sh", "-c", script]);
    let tmp = b.rootfs().join("tmp");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
    b.edit(|s| {
        s["root"]["readonly"] = false.into();
        s["process"]["user"] =
            serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [44]});
    });
    b
}

#[test]
fn run_starts_in_one_call_and_delete_leaves_nothing() {
    let mut lib = Lib::new("run");
    let mut b = bundle_as_user(
        "inproc-run",
        "{ id -u; id -g; id -G; hostname; } > /tmp/out.txt",
    );
    lib.place(&mut b, "r1");
    let pid = lib.run("r1", b.dir()).unwrap();
    assert!(lib.cgroup("r1").exists());
    assert_eq!(wait_exit(pid, Duration::from_secs(60)), 0);
    let out = std::fs::read_to_string(b.rootfs().join("tmp/out.txt")).unwrap();
    assert_eq!(out, "1000\n1000\n1000 44\ncorral-test\n");
    lib.delete("r1");
}

#[test]
fn run_of_a_missing_program_fails_naming_it_and_leaves_nothing() {
    let mut lib = Lib::new("missing");
    let mut b = TestBundle::busybox("inproc-missing", &["/no/such/program"]);
    lib.place(&mut b, "m1");
    let err = lib.run("m1", b.dir()).unwrap_err().to_string();
    assert!(err.contains("/no/such/program"), "{err}");
    assert!(!lib.cgroup("m1").exists(), "cgroup left behind");
    assert!(lib.rt.list().unwrap().is_empty(), "state left behind");
}

#[test]
fn containers_start_from_a_busy_multithreaded_process() {
    let lib = Lib::new("threads");
    let parent = Path::new("/sys/fs/cgroup").join(&lib.cgroup_parent);
    // A child that deadlocks on a lock copied from its parent would hang
    // `run` for ever: launch from a worker and give up after two minutes,
    // killing whatever is left in the test's cgroups.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        launch_twenty_while_churning(lib);
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(120)) {
        Ok(()) => {}
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let _ = std::fs::write(parent.join("cgroup.kill"), "1");
            panic!("launching containers from a multi-threaded process hung");
        }
        Err(e) => panic!("the launching thread failed: {e}"),
    }
}

fn launch_twenty_while_churning(mut lib: Lib) {
    let mut b = bundle_as_user("inproc-threads", "id -u > /tmp/uid; id -G > /tmp/groups");
    // Threads that keep creating threads and allocating: glibc's thread
    // list and its locks are in use whenever the runtime clones.
    let stop = Arc::new(AtomicBool::new(false));
    let churn: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let v = vec![n as u8; 4096 + n % 4096];
                    n += std::thread::spawn(move || v.len()).join().unwrap();
                }
                n
            })
        })
        .collect();
    for i in 0..20 {
        let id = format!("t{i}");
        lib.place(&mut b, &id);
        let _ = std::fs::remove_file(b.rootfs().join("tmp/uid"));
        let pid = lib.run(&id, b.dir()).unwrap();
        assert_eq!(wait_exit(pid, Duration::from_secs(60)), 0, "container {id}");
        let uid = std::fs::read_to_string(b.rootfs().join("tmp/uid")).unwrap();
        assert_eq!(uid.trim(), "1000", "container {id}");
        let groups = std::fs::read_to_string(b.rootfs().join("tmp/groups")).unwrap();
        assert_eq!(groups.trim(), "1000 44", "container {id}");
        lib.delete(&id);
    }
    stop.store(true, Ordering::Relaxed);
    for t in churn {
        assert!(t.join().unwrap() > 0, "the churn threads ran");
    }
}
