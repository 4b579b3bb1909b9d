//! Starting the agent: refuse what it cannot honour (the systemd driver,
//! missing cgroup controllers), take its cgroup subtree (the agent moves
//! into `ROOT/agent`, containers go to `ROOT/containers`), fingerprint,
//! recover, serve HTTP, then open the link to the master.

use crate::config::{CgroupDriverKind, Config};
use crate::containerizer::Containerizer;
use crate::containerizer::loader::HostLoader;
use crate::containerizer::rootfs::{self, Backend};
use crate::core::{self, Agent};
use crate::fingerprint::{self, FingerprintError};
use crate::images::ImageStore;
use crate::isolators::{self, IsolatorError, Settings};
use crate::paths::Paths;
use crate::status::{Backoff, UpdateManager};
use corral_api::v1::AgentInfo;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Why the agent could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("--cgroup-driver=systemd: {0}; or run the agent with --cgroup-driver=fs")]
    SystemdDriver(corral_systemd::scope::BusError),
    #[error(
        "the cgroup v2 hierarchy at {mount} lacks the controllers {missing} that the isolators need. \
         Boot the unified hierarchy (kernel command line: systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all) \
         and delegate them to the agent's cgroup, or choose isolators that do not need them \
         (e.g. --isolation=filesystem/linux,namespaces/pid,namespaces/ipc,linux/capabilities,linux/seccomp,posix/rlimits)"
    )]
    MissingControllers { mount: PathBuf, missing: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Fingerprint(#[from] FingerprintError),
    #[error(transparent)]
    Isolator(#[from] IsolatorError),
    #[error(
        "--image-provisioner-backend=overlay: an overlay cannot have its upper layer in {0} \
         (is the work dir on overlayfs?); use --image-provisioner-backend=copy or another --work-dir"
    )]
    NoOverlay(PathBuf),
    #[error("the executor cannot run in image containers: {0}")]
    Loader(#[from] crate::containerizer::loader::LoaderError),
    #[error("recovering the work dir: {0}")]
    Recover(#[from] crate::checkpoint::CheckpointError),
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AgentError {
    let path = path.to_path_buf();
    move |source| AgentError::Io { what, path, source }
}

/// Moves this process into `ROOT/agent`, so tasks' cgroups (and their
/// OOMs) never include it.
/// Whether the agent moves into `ROOT/agent`: always, except when systemd
/// started it as a service (`under_systemd`) in a cgroup of its own
/// (`current`, relative to the mount) that is neither inside `root` nor
/// above it — a cgroup systemd made for it alone, away from the tasks.
/// (Moving out of it would leave the unit's cgroup empty; and a delegated
/// unit whose cgroup has children with controllers cannot be restarted by
/// systemd 252: the new process cannot join an inner cgroup.) Pure.
pub fn moves_into_root(current: &Path, root: &Path, under_systemd: bool) -> bool {
    let current = current.strip_prefix("/").unwrap_or(current);
    let root = root.strip_prefix("/").unwrap_or(root);
    let separate =
        !current.as_os_str().is_empty() && !current.starts_with(root) && !root.starts_with(current);
    !(under_systemd && separate)
}

/// This process's cgroup v2 path (relative to the mount) from
/// /proc/self/cgroup.
fn current_cgroup() -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| std::path::PathBuf::from(p.trim()))
}

fn take_cgroup(cfg: &Config) -> Result<(), AgentError> {
    let under_systemd = std::env::var_os("INVOCATION_ID").is_some();
    if let Some(current) = current_cgroup()
        && !moves_into_root(&current, &cfg.cgroup_root, under_systemd)
    {
        return Ok(());
    }
    let own = cfg.cgroup_mount.join(&cfg.cgroup_root).join("agent");
    std::fs::create_dir_all(&own).map_err(io("creating the agent's cgroup", &own))?;
    let procs = own.join("cgroup.procs");
    std::fs::write(&procs, std::process::id().to_string())
        .map_err(io("moving the agent into", &procs))
}

/// This process's RLIMIT_NOFILE hard limit.
fn nofile_hard() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: r is valid output storage.
    match unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } {
        0 => r.rlim_max,
        _ => u64::MAX,
    }
}

fn settings(cfg: &Config) -> Settings {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    Settings {
        nofile_hard: nofile_hard(),
        executor: cfg.executor.clone(),
        executor_libs: Vec::new(),
        cfs_quota: cfg.cfs_quota,
        pids_max: cfg.default_pids_max,
        io_device: cfg.io_device,
        hidden: vec![cfg.work_dir.clone()],
        host_mounts: isolators::filesystem::writable_submounts(&mountinfo),
        host_root: isolators::filesystem::host_root_dirs(
            std::fs::read_dir("/")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        e.path().is_dir(),
                    )
                }),
        ),
    }
}

/// The image store (its folders made, unfinished unpacks removed), how
/// image roots are made, and what the executor needs in them.
fn images(
    cfg: &Config,
    paths: &Paths,
) -> Result<(ImageStore, Backend, Option<HostLoader>), AgentError> {
    let dir = cfg
        .docker_store_dir
        .clone()
        .unwrap_or_else(|| cfg.work_dir.join("store/docker"));
    let store = ImageStore::new(cfg.docker_registry.clone(), dir.clone());
    let containers = paths.containers();
    std::fs::create_dir_all(&containers).map_err(io("creating", &containers))?;
    let backend = match cfg.provisioner_backend {
        Some(Backend::Overlay) if cfg.docker_registry.is_some() => {
            if !rootfs::overlay_works(&containers) {
                return Err(AgentError::NoOverlay(containers));
            }
            Backend::Overlay
        }
        Some(b) => b,
        None if cfg.docker_registry.is_some() && rootfs::overlay_works(&containers) => {
            Backend::Overlay
        }
        None => Backend::Copy,
    };
    let loader = match &cfg.docker_registry {
        None => None,
        Some(registry) => {
            store
                .prepare()
                .map_err(io("preparing the image store", &dir))?;
            eprintln!(
                "corral agent: images from {}, unpacked in {}, container roots by {}",
                registry.display(),
                dir.display(),
                match backend {
                    Backend::Overlay => "overlay",
                    Backend::Copy => "copy",
                }
            );
            HostLoader::probe(&cfg.executor)?
        }
    };
    Ok((store, backend, loader))
}

/// glibc gives each thread that allocates under contention an arena of its
/// own, up to 8 per core, and keeps what they hold: the agent's launch and
/// blocking threads grew its RSS from 23 to 41 MiB over a second cycle of
/// 100 tasks (docs/BENCHMARKS.md) without holding more state. Two arenas
/// are plenty for its allocation rate. `MALLOC_ARENA_MAX` set by the
/// operator wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a glibc malloc parameter; it is called
        // before the agent starts its threads.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
    }
}

/// Runs the agent until SIGINT or SIGTERM (its tasks keep running). Once
/// it serves, prints `corral agent listening on http://IP:PORT`.
pub fn run(cfg: Config) -> Result<(), AgentError> {
    limit_malloc_arenas();
    let systemd = cfg.cgroup_driver == CgroupDriverKind::Systemd;
    if systemd {
        // Fails here, clearly, on a host without systemd: never a silent
        // fall back to the file driver.
        corral_systemd::scope::Manager::connect().map_err(AgentError::SystemdDriver)?;
    }
    let work_dir = std::path::absolute(&cfg.work_dir).map_err(io("resolving", &cfg.work_dir))?;
    let cfg = Config { work_dir, ..cfg };
    std::fs::create_dir_all(&cfg.work_dir).map_err(io("creating the work dir", &cfg.work_dir))?;
    let isolators = isolators::select(cfg.isolation.as_deref())?;
    // With the systemd driver, containers are scopes in corral.slice and
    // the agent stays in the cgroup it was started in.
    let containers_cgroup = match systemd {
        true => PathBuf::from(corral_systemd::scope::DEFAULT_SLICE),
        false => cfg.cgroup_root.join("containers"),
    };
    // Checked before the agent writes anything under the cgroup mount.
    let controllers = fingerprint::controllers_for(&cfg.cgroup_mount, &containers_cgroup)?;
    let missing = isolators::missing_controllers(&isolators, &controllers);
    if !missing.is_empty() {
        return Err(AgentError::MissingControllers {
            mount: cfg.cgroup_mount.clone(),
            missing: missing.join(", "),
        });
    }
    if !systemd {
        take_cgroup(&cfg)?;
    }
    let probed = fingerprint::probe(
        &cfg.cgroup_mount,
        &containers_cgroup,
        &cfg.work_dir,
        cfg.reserved_mem_mib,
        cfg.ports,
    )?;
    let all = isolators::select(None)?;
    let unenforced = isolators::missing_controllers(&all, &probed.controllers);
    if !unenforced.is_empty() {
        eprintln!(
            "corral agent: WARNING: controllers {} are missing: the resources they limit are NOT enforced",
            unenforced.join(", ")
        );
    }
    let mut attributes = probed.attributes.clone();
    if let Some(a) = &cfg.attributes {
        let given = fingerprint::parse_attributes(a)?;
        attributes.retain(|x| !given.iter().any(|g| g.name == x.name));
        attributes.extend(given);
    }
    let hostname = cfg.hostname.clone().unwrap_or_else(machine_hostname);
    let info = AgentInfo {
        hostname: hostname.clone(),
        port: i32::from(cfg.port),
        resources: fingerprint::resources(&probed.capacity, cfg.resources.as_deref())?,
        attributes,
        ..AgentInfo::default()
    };
    let paths = Paths::new(&cfg.work_dir);
    let (store, backend, loader) = images(&cfg, &paths)?;
    let containerizer = Arc::new(
        Containerizer::new(
            paths,
            isolators,
            settings(&cfg),
            hostname,
            cfg.cgroup_mount.clone(),
            containers_cgroup,
        )
        .with_systemd(systemd.then_some(corral_systemd::scope::DEFAULT_SLICE))
        .with_images(store, backend, loader),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(io("starting the async runtime", Path::new("tokio")))?;
    rt.block_on(serve(cfg, info, containerizer, probed.controllers))
}

async fn serve(
    cfg: Config,
    mut info: AgentInfo,
    containerizer: Arc<Containerizer>,
    controllers: Vec<String>,
) -> Result<(), AgentError> {
    let addr = SocketAddr::new(cfg.ip, cfg.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| AgentError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| AgentError::Listen { addr, source })?;
    info.port = i32::from(local.port());
    let (tx, rx) = mpsc::channel(1024);
    let (calls_tx, calls_rx) = mpsc::unbounded_channel();
    let backoff = Backoff {
        initial: cfg.update_retry,
        ..Backoff::default()
    };
    let mut agent = Agent::new(
        containerizer.clone(),
        UpdateManager::new(backoff),
        info,
        cfg.kill_grace,
        controllers,
        tx.clone(),
        calls_tx,
    )
    .with_disk_watch(cfg.disk_watch)
    .with_service(crate::service::Service::new(notifier()))
    .with_executor_settings(core::ExecutorSettings {
        registration_timeout: cfg.executor_registration_timeout,
        reregistration_timeout: cfg.executor_reregistration_timeout,
        recovery_timeout: cfg.recovery_timeout,
        // Tasks share the host's network namespace: loopback reaches an
        // agent bound to every address.
        endpoint_host: match cfg.ip.is_unspecified() {
            true => "127.0.0.1".to_string(),
            false => cfg.ip.to_string(),
        },
    });
    let inits = agent.recover()?;
    agent.watch_all(inits);
    let shared = crate::http::Shared {
        tx: tx.clone(),
        containerizer,
    };
    if !cfg.usage_report.is_zero() {
        tokio::spawn(crate::http::report_usage(shared.clone(), cfg.usage_report));
    }
    let router = crate::http::router(shared);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    tokio::spawn(core::sender(cfg.master.clone(), calls_rx, tx.clone()));
    let (link_tx, mut link_rx) = mpsc::channel(64);
    tokio::spawn(crate::link::run(cfg.master.clone(), link_tx));
    let forward = tx.clone();
    tokio::spawn(async move {
        while let Some(l) = link_rx.recv().await {
            if forward.send(core::Input::Link(l)).await.is_err() {
                return;
            }
        }
    });
    println!("corral agent listening on http://{local}");
    drop(tx);
    tokio::select! {
        () = agent.run(rx) => {}
        () = shutdown_signal() => {
            crate::service::stopping(&notifier(), "stopping; tasks keep running");
        }
    }
    Ok(())
}

/// systemd's notification socket (none outside systemd, or when
/// `$NOTIFY_SOCKET` is unusable, said so).
fn notifier() -> corral_systemd::Notifier {
    corral_systemd::Notifier::from_env().unwrap_or_else(|e| {
        eprintln!("corral agent: {e}; not notifying systemd");
        corral_systemd::Notifier::none()
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

fn machine_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::moves_into_root;
    use std::path::Path;

    #[test]
    fn a_systemd_service_keeps_its_own_cgroup_unless_it_holds_the_tasks() {
        let unit = Path::new("/system.slice/corral-agent.service");
        assert!(!moves_into_root(unit, Path::new("corral"), true));
        // Not under systemd: the agent's cgroup is whatever started it.
        assert!(moves_into_root(unit, Path::new("corral"), false));
        // The tasks inside the unit, or the unit inside the tasks' root.
        assert!(moves_into_root(
            unit,
            Path::new("system.slice/corral-agent.service"),
            true
        ));
        assert!(moves_into_root(unit, Path::new("system.slice"), true));
        assert!(moves_into_root(
            Path::new("/corral/x"),
            Path::new("corral"),
            true
        ));
        // The root cgroup is never the agent's own.
        assert!(moves_into_root(Path::new("/"), Path::new("corral"), true));
    }
}
