//! Mount attributes of the runtime spec beyond mount(2) flags: recursive
//! options (`rro`, `rnoexec`, ...) reach the mounts below a bind, through
//! mount_setattr(2) with AT_RECURSIVE, where a plain `ro` stops at the top;
//! id-mapped mounts are refused naming the field. Runs inside the VM only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use serde_json::json;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A host folder with a tmpfs mounted at `sub/`; unmounted and removed on
/// drop.
struct Tree {
    dir: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("corral-tree-{name}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let tree = Tree { dir };
        let target = CString::new(tree.sub().as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C strings; a plain tmpfs mount.
        let r = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "mounting tmpfs: {}", std::io::Error::last_os_error());
        tree
    }

    fn sub(&self) -> PathBuf {
        self.dir.join("sub")
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let target = CString::new(self.sub().as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid C string.
        unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bind(dest: &str, source: &Path, options: &[&str]) -> serde_json::Value {
    json!({"destination": dest, "type": "bind", "source": source, "options": options})
}

#[test]
fn recursive_read_only_and_noexec_reach_the_mounts_below() {
    vm::require();
    let tree = Tree::new("rro");
    let oci = Oci::new("rro");
    let script = "touch /plain/sub/x && echo plain-sub-rw; \
                  touch /rec/sub/y 2>/dev/null || echo rec-sub-ro; \
                  touch /rec/z 2>/dev/null || echo rec-top-ro; \
                  grep ' /rec/sub ' /proc/mounts";
    let mut b = TestBundle::busybox("rro", &["sh", "-c", script]);
    b.edit(|s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.push(bind("/plain", &tree.dir, &["rbind", "ro"]));
        mounts.push(bind("/rec", &tree.dir, &["rbind", "rro", "rnoexec"]));
    });
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), "r1"]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    // A plain ro stops at the bind's top; rro reaches the tmpfs below.
    assert_eq!(
        lines[..3],
        ["plain-sub-rw", "rec-sub-ro", "rec-top-ro"],
        "{stdout}"
    );
    let opts = lines[3].split_whitespace().nth(3).unwrap();
    let opts: Vec<&str> = opts.split(',').collect();
    assert!(opts.contains(&"ro") && opts.contains(&"noexec"), "{stdout}");
    // The host's own tmpfs is untouched.
    assert!(tree.sub().join("x").exists());
    std::fs::write(tree.sub().join("host-write"), b"ok").expect("host tmpfs still writable");
}

#[test]
fn id_mapped_mounts_are_refused_naming_the_field() {
    vm::require();
    let tree = Tree::new("idmap");
    let oci = Oci::new("idmap");
    let mut b = TestBundle::busybox("idmap", &["true"]);
    b.edit(|s| {
        let mut m = bind("/data", &tree.dir, &["rbind"]);
        m["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        m["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        s["mounts"].as_array_mut().unwrap().push(m);
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "i1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(".uidMappings") && err.contains("id-mapped"),
        "{err}"
    );
    assert!(!oci.root().join("i1").exists(), "state left behind");
}
