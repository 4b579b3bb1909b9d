//! Tasks in container images, end to end in the VM: a real master, a real
//! agent with `--docker-registry` pointing at OCI layouts built here (the
//! host's static busybox as a gzip layer, a second plain layer with a
//! whiteout), the test scheduler, and `corral run --image`. Each test has
//! its own master, agent, work dir, registry and cgroup subtree, removed on
//! drop even on failure.

use corral_api::scheduler::{Event, EventType};
use corral_api::v1::FrameworkInfo;
use corral_api::v1::{
    CommandInfo, ContainerInfo, ContainerType, Environment, Image, MesosInfo, Offer, Reason,
    TaskInfo, TaskState, TaskStatus, Variable,
};
use corral_tests::agent::AgentProcess;
use corral_tests::image::{self, MARKER};
use corral_tests::master::MasterProcess;
use corral_tests::scheduler::{Scheduler, container_id, task_for};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Generous: the VM is emulated.
const T: Duration = Duration::from_secs(180);

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(under: &Path, name: &str) -> Scratch {
        let p = under.join(format!("corral-image-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Cluster {
    sched: Option<Scheduler>,
    offers: Vec<Offer>,
    agent: AgentProcess,
    master: MasterProcess,
    registry: Scratch,
}

/// A master, and an agent (its folders under `parent`, default
/// [`corral_tests::agent::WORK_PARENT`]) whose registry holds the busybox
/// layout, with `backend`.
fn cluster(backend: &str, scheduler: bool, parent: Option<&Path>) -> Cluster {
    corral_tests::vm::require();
    let registry = Scratch::new(&std::env::temp_dir(), "registry");
    image::busybox(&registry.0);
    let master = MasterProcess::start(&["--allocation-interval", "200ms"]);
    let reg = registry.0.display().to_string();
    let agent = AgentProcess::start_in(
        parent.unwrap_or(Path::new(corral_tests::agent::WORK_PARENT)),
        &master.host_port(),
        &[
            "--resources",
            "cpus:2;mem:512;disk:1024",
            "--docker-registry",
            &reg,
            "--image-provisioner-backend",
            backend,
        ],
    );
    let sched = scheduler.then(|| {
        let mut s = Scheduler::subscribe(&master.url(), FrameworkInfo::new("root", "vm-image"));
        s.set_auto_acknowledge(true);
        s
    });
    Cluster {
        sched,
        offers: Vec::new(),
        agent,
        master,
        registry,
    }
}

/// A folder on the VM's ext4 disk: an overlay's upper layer cannot be on
/// the VM's overlayfs root (where /tmp and /var/tmp are).
fn on_disk() -> Scratch {
    let disk = std::env::var("CORRAL_VM_DISK").expect("the VM's scratch disk ($CORRAL_VM_DISK)");
    Scratch::new(Path::new(&disk), "work")
}

fn container(name: &str) -> ContainerInfo {
    ContainerInfo {
        r#type: ContainerType::Mesos,
        mesos: Some(MesosInfo {
            image: Some(Image::docker(name)),
        }),
        ..ContainerInfo::default()
    }
}

impl Cluster {
    fn sched(&mut self) -> &mut Scheduler {
        self.sched.as_mut().expect("a scheduler")
    }

    fn offer(&mut self) -> Offer {
        if let Some(o) = self.offers.pop() {
            return o;
        }
        let offers = self.sched().next_offers(T);
        offers
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no offer; agent log:\n{}", self.agent.log()))
    }

    /// Launches task `id` running `cmd` in image `image`; `edit` adjusts it.
    fn launch(&mut self, id: &str, image: &str, cmd: &str, edit: impl FnOnce(&mut TaskInfo)) {
        let offer = self.offer();
        let mut task = task_for(&offer, id, cmd, 0.5, 64.0);
        task.container = Some(container(image));
        edit(&mut task);
        self.sched()
            .accept_launch(vec![offer.id.clone()], vec![task], Some(0.0));
    }

    fn update(&mut self, id: &str, state: TaskState) -> TaskStatus {
        let wanted = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state == state)
        };
        let mut events = self.sched().events_until(wanted, T);
        let last = events.pop().and_then(|e| e.update).expect("the update");
        for e in events {
            self.offers
                .extend(e.offers.map(|o| o.offers).unwrap_or_default());
        }
        last.status
    }

    /// The task's terminal update, which must be in `state`.
    fn ends(&mut self, id: &str, state: TaskState) -> TaskStatus {
        let done = |e: &Event| {
            e.update
                .as_ref()
                .is_some_and(|u| u.status.task_id.as_str() == id && u.status.state.is_terminal())
        };
        let events = self.sched().events_until(done, T);
        let mut updates = Vec::new();
        for e in events {
            if e.r#type == Some(EventType::Update) {
                updates.extend(
                    e.update
                        .map(|u| u.status)
                        .filter(|s| s.task_id.as_str() == id),
                );
            } else {
                self.offers
                    .extend(e.offers.map(|o| o.offers).unwrap_or_default());
            }
        }
        let last = updates.last().cloned().expect("a terminal update");
        assert_eq!(last.state, state, "{updates:?}\n{}", self.agent.log());
        last
    }

    fn stdout(&self, s: &TaskStatus) -> String {
        let path = self.agent.sandbox(&container_id(s)).join("stdout");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Mounts at or below the agent's work dir, from mountinfo.
    fn mounts_in_work_dir(&self) -> Vec<String> {
        let work = self.agent.work_dir().display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(4)
                    .is_some_and(|p| p.starts_with(&work))
            })
            .map(str::to_string)
            .collect()
    }

    /// Container cgroups left under the agent's subtree.
    fn container_cgroups(&self) -> usize {
        std::fs::read_dir(self.agent.cgroup().join("containers"))
            .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
            .unwrap_or(0)
    }

    /// The store's unpacked rootfs folders.
    fn store_rootfs(&self) -> Vec<PathBuf> {
        let dir = self.agent.work_dir().join("store/docker/rootfs");
        std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

/// What the looker task prints about its world.
const LOOK: &str = "cat /etc/image-marker; echo; \
    test -e /etc/doomed && echo doomed=present || echo doomed=gone; \
    cat /etc/layer2; echo; \
    test -d /usr/bin && echo usr=present || echo usr=absent; \
    echo pwd=$(pwd) uid=$(id -u); \
    echo IMAGE_VAR=$IMAGE_VAR OVERRIDE=$OVERRIDE; \
    echo scribble > /etc/image-marker && echo root=writable; \
    touch /new-in-root && echo new=made; \
    touch /mnt/mesos/sandbox/mine && echo sandbox=writable";

fn look_env(t: &mut TaskInfo) {
    let c: &mut CommandInfo = t.command.as_mut().unwrap();
    c.environment = Some(Environment {
        variables: vec![Variable::new("OVERRIDE", "task")],
    });
}

/// Checks what [`LOOK`] printed in the busybox image.
fn assert_looked(out: &str) {
    assert!(out.contains(MARKER), "{out}");
    assert!(
        out.contains("doomed=gone"),
        "the whiteout of layer 2: {out}"
    );
    assert!(out.contains("second layer"), "{out}");
    assert!(
        out.contains("usr=absent"),
        "the host's /usr/bin is not there: {out}"
    );
    assert!(out.contains("pwd=/mnt/mesos/sandbox uid=0"), "{out}");
    assert!(out.contains("IMAGE_VAR=from-image OVERRIDE=task"), "{out}");
    assert!(
        out.contains("root=writable") && out.contains("new=made"),
        "{out}"
    );
    assert!(out.contains("sandbox=writable"), "{out}");
}

/// After the tasks: `images` images unpacked (once each, by manifest),
/// none touched by what the tasks wrote.
fn assert_store_untouched(c: &Cluster, images: usize) {
    let roots = c.store_rootfs();
    assert_eq!(roots.len(), images, "{roots:?}");
    for root in roots {
        let marker = std::fs::read_to_string(root.join("etc/image-marker")).unwrap();
        assert_eq!(marker, MARKER, "the task's write reached the store");
        assert!(!root.join("new-in-root").exists());
        assert!(!root.join("etc/doomed").exists());
    }
}

#[test]
fn an_image_task_on_an_overlay_sees_the_image_and_leaves_nothing_mounted() {
    let disk = on_disk();
    let mut c = cluster("overlay", true, Some(&disk.0));
    c.launch("sleeper", "busybox", "sleep 600", |_| {});
    let running = c.update("sleeper", TaskState::Running);
    let mounts = c.mounts_in_work_dir();
    assert!(
        mounts.iter().any(|m| m.contains(" - overlay ")
            && m.contains(&format!("{}/bundle/rootfs", container_id(&running)))),
        "the sleeper's root is an overlay in its bundle: {mounts:#?}"
    );
    c.launch("looker", "busybox:latest", LOOK, look_env);
    let done = c.ends("looker", TaskState::Finished);
    assert_looked(&c.stdout(&done));
    assert!(c.agent.sandbox(&container_id(&done)).join("mine").exists());
    // A second task sees the image as it was, not the looker's writes.
    c.launch(
        "again",
        "busybox",
        "cat /etc/image-marker; test -e /new-in-root || echo fresh",
        |_| {},
    );
    let again = c.ends("again", TaskState::Finished);
    let out = c.stdout(&again);
    assert!(out.contains(MARKER) && out.contains("fresh"), "{out}");
    assert_store_untouched(&c, 1);
    let sid = running.task_id.clone();
    let agent_id = running.agent_id.clone();
    c.sched().kill(sid, agent_id);
    c.ends("sleeper", TaskState::Killed);
    let left = c.mounts_in_work_dir();
    assert!(left.is_empty(), "mounts left in the work dir: {left:#?}");
    assert_eq!(c.container_cgroups(), 0);
    assert!(
        !c.agent
            .work_dir()
            .join("meta/containers")
            .read_dir()
            .unwrap()
            .any(|e| { e.unwrap().path().join("bundle").exists() })
    );
}

#[test]
fn an_image_task_on_a_copy_gets_the_images_entrypoint_cmd_workdir_and_user() {
    let mut c = cluster("copy", true, None);
    // No value, not a shell command: the image's Entrypoint and Cmd.
    c.launch("entry", "busybox:entry", "", |t| {
        let cmd = t.command.as_mut().unwrap();
        cmd.shell = false;
        cmd.value = None;
    });
    let done = c.ends("entry", TaskState::Finished);
    let out = c.stdout(&done);
    assert!(out.contains("cmd-ran"), "{out}");
    assert!(out.contains("cwd=/srv/app"), "WorkingDir: {out}");
    assert!(out.contains("uid=65534"), "User nobody: {out}");
    // Arguments replace the Cmd after the Entrypoint.
    c.launch("args", "busybox:entry", "", |t| {
        let cmd = t.command.as_mut().unwrap();
        cmd.shell = false;
        cmd.value = None;
        cmd.arguments = vec!["echo args-ran".into()];
    });
    let done = c.ends("args", TaskState::Finished);
    let out = c.stdout(&done);
    assert!(
        out.contains("args-ran") && !out.contains("cmd-ran"),
        "{out}"
    );
    c.launch("looker", "busybox", LOOK, look_env);
    let done = c.ends("looker", TaskState::Finished);
    assert_looked(&c.stdout(&done));
    assert_store_untouched(&c, 2);
    assert!(c.mounts_in_work_dir().is_empty());
    assert_eq!(c.container_cgroups(), 0);
}

#[test]
fn unknown_or_corrupt_images_fail_the_task_naming_the_image_and_leave_nothing() {
    let mut c = cluster("copy", true, None);
    // A repository whose layer was changed after it was written.
    let mut broken = image::Layout::new(&c.registry.0.join("broken"));
    let descs = broken.image("latest", &image::busybox_layers(), serde_json::json!({}));
    let layer = broken.blob_path(&descs[0]);
    let mut bytes = std::fs::read(&layer).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    for (id, name, says) in [
        ("unknown", "nosuch", "no OCI image layout"),
        ("badtag", "busybox:nope", "no manifest tagged \"nope\""),
        ("corrupt", "broken", "does not match its digest"),
    ] {
        c.launch(id, name, "echo should-not-run", |_| {});
        let failed = c.ends(id, TaskState::Failed);
        assert_eq!(
            failed.reason,
            Some(Reason::ContainerLaunchFailed),
            "{failed:?}"
        );
        let msg = failed.message.clone().unwrap_or_default();
        assert!(
            msg.contains(&format!("image \"{name}\"")) && msg.contains(says),
            "{id}: {msg}"
        );
    }
    assert!(c.mounts_in_work_dir().is_empty());
    assert_eq!(c.container_cgroups(), 0);
    assert!(c.store_rootfs().is_empty(), "{:?}", c.store_rootfs());
    let staging = c.agent.work_dir().join("store/docker/staging");
    assert_eq!(std::fs::read_dir(staging).unwrap().count(), 0);
}

#[test]
fn corral_run_image_runs_the_command_in_the_image() {
    let c = cluster("copy", false, None);
    let out = std::process::Command::new(corral_tests::oci::corral_bin())
        .args([
            "run",
            "--master",
            &c.master.url(),
            "--agent",
            &c.agent.url(),
            "--cpus",
            "0.5",
            "--mem",
            "64",
        ])
        .args(["--image", "busybox", "--", "cat", "/etc/image-marker"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        c.agent.log()
    );
    assert!(
        stdout.contains(MARKER),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// PRUNE_IMAGES on the agent's operator API: (status, body).
fn prune(c: &Cluster, excluded: &[&str]) -> (u16, String) {
    let images: Vec<serde_json::Value> = excluded
        .iter()
        .map(|n| serde_json::json!({"type": "DOCKER", "docker": {"name": n}}))
        .collect();
    let body =
        serde_json::json!({"type": "PRUNE_IMAGES", "prune_images": {"excluded_images": images}});
    let mut http = corral_tests::http::Client::new(&c.agent.url());
    let r = http
        .post(
            "/api/v1",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
        .unwrap();
    (r.status, r.text())
}

#[test]
fn prune_images_removes_unused_images_and_keeps_those_in_use_or_excluded() {
    let disk = on_disk();
    let mut c = cluster("overlay", true, Some(&disk.0));
    c.launch("sleeper", "busybox:latest", "sleep 600", |_| {});
    let running = c.update("sleeper", TaskState::Running);
    // `entry` is another manifest over the same layers: a second folder.
    c.launch("entry", "busybox:entry", "", |t| {
        let cmd = t.command.as_mut().unwrap();
        cmd.shell = false;
        cmd.value = None;
    });
    c.ends("entry", TaskState::Finished);
    assert_eq!(c.store_rootfs().len(), 2, "{:?}", c.store_rootfs());
    let (status, text) = prune(&c, &[]);
    assert_eq!(status, 200, "{text}");
    let removed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let removed = removed["prune_images"]["removed"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(removed.len(), 1, "only the ended task's image: {text}");
    let left = c.store_rootfs();
    assert_eq!(left.len(), 1, "the sleeper's image stays: {left:?}");
    assert!(left[0].join("etc/image-marker").exists());
    // An unknown exclusion is refused, naming it; nothing is removed.
    let (status, text) = prune(&c, &["nope:1"]);
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("nope:1"), "{text}");
    let sid = running.task_id.clone();
    let agent_id = running.agent_id.clone();
    c.sched().kill(sid, agent_id);
    c.ends("sleeper", TaskState::Killed);
    let (status, text) = prune(&c, &["busybox:latest"]);
    assert_eq!(status, 200, "{text}");
    assert_eq!(c.store_rootfs().len(), 1, "excluded: {text}");
    let (status, text) = prune(&c, &[]);
    assert_eq!(status, 200, "{text}");
    assert!(c.store_rootfs().is_empty(), "{text}");
    // The next task unpacks it again.
    c.launch("after", "busybox", "cat /etc/image-marker", |_| {});
    let after = c.ends("after", TaskState::Finished);
    assert!(c.stdout(&after).contains(MARKER));
}
