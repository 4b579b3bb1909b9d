//! Test bundles: a busybox root filesystem and a config.json starting from
//! corral's default spec, in a folder removed on drop.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Applets linked in the test rootfs's /bin.
const APPLETS: [&str; 38] = [
    "sh", "echo", "cat", "true", "false", "sleep", "hostname", "id", "ls", "mkdir", "dd", "grep",
    "wc", "seq", "ps", "mount", "head", "touch", "env", "pwd", "test", "kill", "readlink", "stat",
    "timeout", "yes", "rm", "ln", "sync", "unshare", "whoami", "uname", "awk", "tr", "tty", "stty",
    "ionice", "ip",
];

/// A bundle folder with a busybox rootfs and an editable spec.
#[derive(Debug)]
pub struct TestBundle {
    dir: PathBuf,
    /// The spec as JSON, written by [`TestBundle::write`].
    pub spec: Value,
}

impl TestBundle {
    /// A bundle running `args`, with corral's default spec (hostname
    /// `corral-test`, no terminal).
    pub fn busybox(name: &str, args: &[&str]) -> TestBundle {
        let dir = std::env::temp_dir().join(format!("corral-bundle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = dir.join("rootfs/bin");
        std::fs::create_dir_all(&bin).unwrap();
        for d in ["proc", "dev", "sys", "tmp", "etc"] {
            std::fs::create_dir_all(dir.join("rootfs").join(d)).unwrap();
        }
        std::fs::copy("/bin/busybox", bin.join("busybox"))
            .expect("copying /bin/busybox (package busybox-static; tests/run installs it)");
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", bin.join(a)).unwrap();
        }
        let mut spec: Value = serde_json::from_str(corral_oci::spec::DEFAULT_SPEC).unwrap();
        spec["process"]["args"] = args.iter().map(|a| Value::from(*a)).collect();
        spec["process"]["env"] = serde_json::json!(["PATH=/bin"]);
        spec["hostname"] = "corral-test".into();
        let b = TestBundle { dir, spec };
        b.write();
        b
    }

    /// The bundle folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root filesystem.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Makes a symlink at the container path `at` in the rootfs (its parent
    /// folders too) pointing at `target`, as a hostile image would.
    pub fn symlink(&self, at: &str, target: impl AsRef<Path>) -> &TestBundle {
        let link = self.rootfs().join(at.trim_start_matches('/'));
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, link).unwrap();
        self
    }

    /// Edits the spec and writes it.
    pub fn edit(&mut self, f: impl FnOnce(&mut Value)) -> &mut TestBundle {
        f(&mut self.spec);
        self.write();
        self
    }

    /// Writes config.json.
    pub fn write(&self) {
        std::fs::write(
            self.dir.join("config.json"),
            serde_json::to_vec_pretty(&self.spec).unwrap(),
        )
        .unwrap();
    }
}

impl Drop for TestBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
