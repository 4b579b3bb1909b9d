//! Hostile root filesystems (runc's CVE-2021-30465 class): an image whose
//! directories are symlinks to host paths, absolute or climbing with
//! `../../..`, must not redirect the container's mounts, device nodes,
//! masked or read-only paths out of its root. Each test creates and starts a
//! container over such a rootfs, checks that what the spec asked for is
//! there inside the container, and that the host path the symlink names is
//! untouched: nothing made there, nothing mounted on it. Runs inside the VM
//! only.

use corral_tests::bundle::TestBundle;
use corral_tests::oci::Oci;
use corral_tests::vm;
use serde_json::json;
use std::path::{Path, PathBuf};

/// A host folder the hostile symlinks point into, removed on drop.
struct Victim(PathBuf);

impl Victim {
    fn new(name: &str) -> Victim {
        let dir = std::env::temp_dir().join(format!("corral-victim-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Victim(dir)
    }

    /// An empty host folder `sub` of the victim.
    fn dir(&self, sub: &str) -> PathBuf {
        let d = self.0.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Where the host path `host` lands inside `rootfs` when resolved there.
    fn inside(rootfs: &Path, host: &Path) -> PathBuf {
        rootfs.join(host.strip_prefix("/").unwrap())
    }

    /// Panics if anything is mounted at or below the victim on the host.
    fn assert_no_mount(&self) {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let root = self.0.to_str().unwrap();
        assert!(
            !info.lines().any(|l| l.contains(root)),
            "a mount appeared on the host at {root}:\n{info}"
        );
    }

    /// Panics unless the host folder `sub` is still empty.
    fn assert_empty(&self, sub: &str) {
        let left: Vec<_> = std::fs::read_dir(self.0.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "made on the host in {sub}: {left:?}");
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A relative symlink target climbing from anywhere to the host's `/` and
/// down to `host`.
fn climbing(host: &Path) -> String {
    format!(
        "{}{}",
        "../".repeat(16),
        host.strip_prefix("/").unwrap().display()
    )
}

/// A busybox bundle whose script's output goes to `out/result` (a host
/// folder bound at /out): create's own stdio is gone once it returns.
fn bundle(name: &str, script: &str) -> (TestBundle, PathBuf) {
    let mut b = TestBundle::busybox(
        name,
        &["sh", "-c", &format!("{{ {script}; }} > /out/result 2>&1")],
    );
    let out = b.dir().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let source = out.to_str().unwrap().to_string();
    b.edit(|s| {
        s["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/out", "type": "bind", "source": source, "options": ["rbind", "rw"]
        }));
    });
    (b, out)
}

/// Starts the created container `id`, waits for it to stop and returns
/// what its script wrote.
fn start_and_collect(oci: &Oci, id: &str, out: &Path) -> String {
    oci.ok(&["start", id]);
    oci.wait_status(id, "stopped");
    let result = std::fs::read_to_string(out.join("result")).unwrap_or_default();
    oci.ok(&["delete", id]);
    result
}

#[test]
fn mounts_and_devices_through_symlinks_out_of_the_root_land_inside_it() {
    vm::require();
    let victim = Victim::new("mounts");
    let (abs, rel, dev) = (victim.dir("abs"), victim.dir("rel"), victim.dir("dev"));
    let (mut b, out) = bundle(
        "hostile-mounts",
        "stat -f -c %T /data; cat /rel/file; ls /hostdev; echo null > /hostdev/null2 && echo written",
    );
    let file = b.dir().join("bound-file");
    std::fs::write(&file, "bound\n").unwrap();
    // /data -> the host's victim (absolute), /rel -> ../../..(16)/victim/rel,
    // /hostdev -> the host's victim/dev.
    b.symlink("/data", &abs);
    b.symlink("/rel", climbing(&rel));
    b.symlink("/hostdev", &dev);
    let file = file.to_str().unwrap().to_string();
    b.edit(|s| {
        let mounts = s["mounts"].as_array_mut().unwrap();
        mounts.push(json!({
            "destination": "/data", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]
        }));
        mounts.push(json!({
            "destination": "/rel/file", "type": "bind", "source": file, "options": ["bind", "ro"]
        }));
        s["linux"]["devices"] = json!([
            {"path": "/hostdev/null2", "type": "c", "major": 1, "minor": 3, "fileMode": 438}
        ]);
    });
    let oci = Oci::new("hostile-mounts");
    oci.ok(&["create", "--bundle", b.dir().to_str().unwrap(), "hm"]);
    // Created: every mount and node is in place inside the container.
    for sub in ["abs", "rel", "dev"] {
        victim.assert_empty(sub);
    }
    victim.assert_no_mount();
    let pid = oci.pid("hm");
    let theirs = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    let tmpfs_at = format!(" {} ", abs.display());
    assert!(
        theirs
            .lines()
            .any(|l| l.contains(&tmpfs_at) && l.contains(" - tmpfs ")),
        "no tmpfs at {} inside the container:\n{theirs}",
        abs.display()
    );
    let seen = start_and_collect(&oci, "hm", &out);
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines, ["tmpfs", "bound", "null2", "written"], "{seen}");
    for sub in ["abs", "rel", "dev"] {
        victim.assert_empty(sub);
    }
    victim.assert_no_mount();
    // What was made, was made in the bundle's rootfs.
    let rootfs = b.rootfs();
    assert!(Victim::inside(&rootfs, &rel).join("file").is_file());
    assert!(Victim::inside(&rootfs, &abs).is_dir());
}

#[test]
fn masked_and_read_only_paths_through_symlinks_stay_inside_the_root() {
    vm::require();
    let victim = Victim::new("masked");
    let secret = victim.dir("etc").join("secret");
    std::fs::write(&secret, "host secret\n").unwrap();
    let data = victim.dir("data");
    std::fs::write(data.join("keep"), "host data\n").unwrap();
    let (mut b, out) = bundle(
        "hostile-masked",
        "cat /secret | wc -c; cat /ro/keep; touch /ro/new || echo refused; touch /rw-root && echo root-writable",
    );
    // The image's own copies where the symlinks resolve inside the root.
    let rootfs = b.rootfs();
    let inside_secret = Victim::inside(&rootfs, &secret);
    std::fs::create_dir_all(inside_secret.parent().unwrap()).unwrap();
    std::fs::write(&inside_secret, "image secret\n").unwrap();
    let inside_data = Victim::inside(&rootfs, &data);
    std::fs::create_dir_all(&inside_data).unwrap();
    std::fs::write(inside_data.join("keep"), "image data\n").unwrap();
    b.symlink("/secret", &secret);
    b.symlink("/ro", climbing(&data));
    b.edit(|s| {
        s["root"]["readonly"] = false.into();
        s["linux"]["maskedPaths"]
            .as_array_mut()
            .unwrap()
            .push("/secret".into());
        s["linux"]["readonlyPaths"]
            .as_array_mut()
            .unwrap()
            .push("/ro".into());
    });
    let oci = Oci::new("hostile-masked");
    oci.ok(&["create", "--bundle", b.dir().to_str().unwrap(), "hk"]);
    victim.assert_no_mount();
    let seen = start_and_collect(&oci, "hk", &out);
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(lines[0].trim(), "0", "the secret is not masked: {seen}");
    assert_eq!(lines[1], "image data", "{seen}");
    assert!(seen.contains("Read-only file system"), "{seen}");
    assert!(
        seen.contains("refused") && seen.contains("root-writable"),
        "{seen}"
    );
    victim.assert_no_mount();
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "host secret\n");
    assert!(!data.join("new").exists());
    assert!(!Victim::inside(&rootfs, &data).join("new").exists());
}

#[test]
fn a_masked_path_through_a_proc_magic_link_is_refused() {
    vm::require();
    // /secret -> /proc/self/root/etc: a magic link, which could lead to
    // another mount namespace's root; openat2(RESOLVE_NO_MAGICLINKS) says no.
    let oci = Oci::new("magic");
    let mut b = TestBundle::busybox("magic", &["true"]);
    b.symlink("/secret", "/proc/self/root/etc");
    b.edit(|s| {
        s["linux"]["maskedPaths"]
            .as_array_mut()
            .unwrap()
            .push("/secret".into());
    });
    let out = oci.run(&["create", "--bundle", b.dir().to_str().unwrap(), "mg"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "created: {err}");
    assert!(err.contains("masking path /secret"), "{err}");
    assert!(err.contains("Too many levels of symbolic links"), "{err}");
}

#[test]
fn without_openat2_create_fails_and_says_why() {
    vm::require();
    // The runtime under a filter answering ENOSYS to openat2, as a kernel
    // before 5.6 does: create must refuse, never fall back to plain paths.
    let profile: oci_spec::runtime::LinuxSeccomp = serde_json::from_str(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["openat2"],"action":"SCMP_ACT_ERRNO","errnoRet":38}]}"#,
    )
    .unwrap();
    let prog = corral_oci::seccomp::compile(&profile).unwrap();
    let oci = Oci::new("noopenat2");
    let b = TestBundle::busybox("noopenat2", &["true"]);
    std::fs::create_dir_all(oci.root()).unwrap();
    let err_path = oci.root().join(".err-noopenat2");
    let mut cmd = oci.cmd(&["create", "--bundle", b.dir().to_str().unwrap(), "n2"]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap());
    // SAFETY: installing the filter is one seccomp(2) syscall on data
    // prepared before the fork: async-signal-safe, allocation-free.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            prog.install().map_err(std::io::Error::from_raw_os_error)
        })
    };
    let status = cmd.status().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert!(!status.success(), "created without openat2: {err}");
    assert!(
        err.contains("opening the root filesystem with openat2(2)")
            && err.contains("Function not implemented"),
        "{err}"
    );
    // And, as every failed create, it leaves nothing.
    assert!(!oci.run(&["state", "n2"]).status.success());
}
