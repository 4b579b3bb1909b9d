//! Scratch cgroups for tests: leaf cgroups under `/sys/fs/cgroup/corral-test`
//! and whole driver roots, killed and removed on drop even when the test
//! panics.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::Duration;

const ROOT: &str = "/sys/fs/cgroup";
const PARENT: &str = "/sys/fs/cgroup/corral-test";

/// A leaf cgroup that exists for the life of this value.
#[derive(Debug)]
pub struct ScratchCgroup {
    path: PathBuf,
}

impl ScratchCgroup {
    /// Creates `corral-test/<name>-<pid>` with every root controller enabled
    /// on the way down.
    pub fn new(name: &str) -> ScratchCgroup {
        crate::vm::require();
        let controllers = fs::read_to_string(format!("{ROOT}/cgroup.subtree_control")).unwrap();
        match fs::create_dir(PARENT) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => panic!("creating {PARENT}: {e}"),
        }
        for c in controllers.split_whitespace() {
            write(
                Path::new(PARENT).join("cgroup.subtree_control"),
                &format!("+{c}"),
            );
        }
        let path = Path::new(PARENT).join(format!("{name}-{}", std::process::id()));
        fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        ScratchCgroup { path }
    }

    /// The cgroup's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `value` to the cgroup's interface file `file`.
    pub fn set(&self, file: &str, value: &str) {
        write(self.path.join(file), value);
    }

    /// Reads the cgroup's interface file `file`.
    pub fn get(&self, file: &str) -> String {
        let p = self.path.join(file);
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    }

    /// The value of `key` in a flat-keyed file such as memory.events or cpu.stat.
    pub fn stat(&self, file: &str, key: &str) -> u64 {
        let text = self.get(file);
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(' ')?;
                (k == key).then(|| v.trim().parse::<u64>().ok()).flatten()
            })
            .unwrap_or_else(|| panic!("no {key} in {file}: {text:?}"))
    }
}

impl Drop for ScratchCgroup {
    fn drop(&mut self) {
        let _ = fs::write(self.path.join("cgroup.kill"), "1");
        for _ in 0..200 {
            match fs::remove_dir(&self.path) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) => sleep(Duration::from_millis(10)),
            }
        }
        eprintln!("warning: could not remove {}", self.path.display());
    }
}

fn write(path: PathBuf, value: &str) {
    fs::write(&path, value)
        .unwrap_or_else(|e| panic!("writing {value:?} to {}: {e}", path.display()));
}

/// A scratch root for a cgroup driver under test, removed with everything
/// below it on drop, independently of the driver: cgroup.kill, then rmdir
/// deepest first, retrying while processes exit (attached BPF programs go
/// with the cgroups).
#[derive(Debug)]
pub struct DriverRoot {
    pub path: PathBuf,
    pub driver: corral_isolator::cgroup::FsDriver,
}

impl DriverRoot {
    /// `/sys/fs/cgroup/corral-test-<name>-<pid>` with a driver rooted there.
    pub fn new(name: &str) -> DriverRoot {
        crate::vm::require();
        let path = PathBuf::from(format!("{ROOT}/corral-test-{name}-{}", std::process::id()));
        fs::create_dir(&path).unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
        DriverRoot {
            driver: corral_isolator::cgroup::FsDriver::with_root(&path),
            path,
        }
    }

    /// Creates `rel` through the driver, panicking with its error.
    pub fn create(
        &self,
        rel: &str,
        r: Option<&oci_spec::runtime::LinuxResources>,
    ) -> corral_isolator::cgroup::Cgroup {
        use corral_isolator::cgroup::CgroupDriver;
        self.driver
            .create(Path::new(rel), r)
            .unwrap_or_else(|e| panic!("creating {rel}: {e}"))
    }
}

/// Removes the cgroup `dir` and everything below it, deepest first,
/// retrying each rmdir for up to 5 s while its processes exit (kill them
/// first: `cgroup.kill`).
pub fn remove_tree(dir: &Path) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            remove_tree(&e.path());
        }
    }
    for _ in 0..500 {
        if fs::remove_dir(dir).is_ok() || !dir.exists() {
            return;
        }
        sleep(Duration::from_millis(10));
    }
}

impl Drop for DriverRoot {
    fn drop(&mut self) {
        let _ = fs::write(self.path.join("cgroup.kill"), "1");
        remove_tree(&self.path);
        if self.path.exists() {
            eprintln!("warning: could not remove {}", self.path.display());
        }
    }
}

/// The cgroup v2 folder of process `pid`, from /proc/PID/cgroup.
pub fn of_pid(pid: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let rel = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(Path::new("/sys/fs/cgroup").join(rel.trim_start_matches('/')))
}
