//! Mount attributes of the runtime spec beyond mount(2) flags: recursive
//! options (`rro`, `rnoexec`, ...) reach the mounts below a bind, through
//! mount_setattr(2) with AT_RECURSIVE, where a plain `ro` stops at the top;
//! id-mapped binds (`uidMappings`/`gidMappings`) show files on an ext4 disk
//! under the mapped owner, with and without a user namespace, and a
//! filesystem without id-mapping support (tmpfs on 6.1) fails create
//! naming the mount.
//! Runs inside the VM only.

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

/// A folder on the VM's ext4 scratch disk (ext4 takes id-mapped mounts;
/// the VM's 9p root does not) holding `owned` (uid and gid 1000) and
/// `root` (0); removed on drop.
struct Ext4Dir {
    dir: PathBuf,
}

impl Ext4Dir {
    fn new(name: &str) -> Ext4Dir {
        let disk = vm::Disk::get();
        let dir =
            Path::new(&disk.mount).join(format!("corral-idmap-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("owned"), b"x").unwrap();
        std::fs::write(dir.join("root"), b"x").unwrap();
        std::os::unix::fs::chown(dir.join("owned"), Some(1000), Some(1000)).unwrap();
        Ext4Dir { dir }
    }
}

impl Drop for Ext4Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A bind of `source` at /data with on-disk id 1000 seen as `uid`/`gid`.
fn id_mapped(source: &Path, uid: u32, gid: u32, options: &[&str]) -> serde_json::Value {
    let mut m = bind("/data", source, options);
    m["uidMappings"] = json!([{"containerID": 1000, "hostID": uid, "size": 1}]);
    m["gidMappings"] = json!([{"containerID": 1000, "hostID": gid, "size": 1}]);
    m
}

fn run_stat(oci: &Oci, b: &TestBundle, id: &str) -> String {
    let out = oci.run(&["run", "--bundle", b.dir().to_str().unwrap(), id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_id_mapped_bind_shows_files_under_the_mapped_owner() {
    vm::require();
    let src = Ext4Dir::new("plain");
    let oci = Oci::new("idmap");
    let mut b = TestBundle::busybox(
        "idmap",
        &["stat", "-c", "%n %u:%g", "/data/owned", "/data/root"],
    );
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(id_mapped(
            &src.dir,
            4242,
            4343,
            &["bind", "idmap"],
        ));
    });
    let out = run_stat(&oci, &b, "i1");
    // On-disk 1000 is seen as 4242:4343; root, outside the mapping, as the
    // overflow id.
    assert!(out.contains("/data/owned 4242:4343"), "{out}");
    assert!(out.contains("/data/root 65534:65534"), "{out}");
    // The host's view is unchanged.
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(src.dir.join("owned")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
}

#[test]
fn an_id_mapped_bind_reaches_a_container_in_its_own_user_namespace() {
    vm::require();
    let src = Ext4Dir::new("userns");
    let oci = Oci::new("idmap-userns");
    let mut b = TestBundle::busybox("idmap-userns", &["stat", "-c", "%n %u:%g", "/data/owned"]);
    // The container's root (host 100000) may not make it in a root-owned
    // rootfs.
    std::fs::create_dir_all(b.rootfs().join("data")).unwrap();
    b.edit(|s| {
        s["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        s["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        s["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        // On-disk 1000 is host 100007, which is 7 in the container.
        s["mounts"].as_array_mut().unwrap().push(id_mapped(
            &src.dir,
            100007,
            100009,
            &["rbind", "ridmap"],
        ));
    });
    let out = run_stat(&oci, &b, "u1");
    assert!(out.contains("/data/owned 7:9"), "{out}");
}

#[test]
fn an_id_mapped_bind_of_a_filesystem_without_support_fails_naming_the_mount() {
    vm::require();
    // tmpfs takes id mappings from Linux 6.3 only; the VM runs 6.1.
    let tree = Tree::new("idmap-tmpfs");
    let oci = Oci::new("idmap-tmpfs");
    let mut b = TestBundle::busybox("idmap-tmpfs", &["true"]);
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(id_mapped(
            &tree.sub(),
            4242,
            4343,
            &["bind", "idmap"],
        ));
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "n1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mounts[7] id-mapped on /data")
            && err.contains("mount_setattr(MOUNT_ATTR_IDMAP)")
            && err.contains("Invalid argument (os error 22)"),
        "{err}"
    );
    assert!(!oci.root().join("n1").exists(), "state left behind");
    let cgroup = Path::new("/sys/fs/cgroup/corral-oci").join("n1");
    assert!(!cgroup.exists(), "cgroup left behind");
}
