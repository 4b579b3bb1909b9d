//! The master daemon: the registry, the DRF allocator, offers, the v1
//! scheduler API, corral's agent link and the operator API.
//!
//! [`run`] serves HTTP ([`http`]) in front of one task that owns all state
//! ([`core::Master`]); `docs/master.md` describes the flows.

pub mod allocator;
pub mod registry;

pub mod config;
pub mod convert;
pub mod core;
pub mod http;
pub mod reservation;
pub mod service;
pub mod view;

pub use config::Config;

use std::net::SocketAddr;

/// Why the master could not run.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The listening socket.
    #[error("listening on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The async runtime.
    #[error("starting the runtime: {0}")]
    Runtime(std::io::Error),
    /// Serving HTTP.
    #[error("serving HTTP: {0}")]
    Serve(std::io::Error),
    /// The registry in the work dir (the error names the file).
    #[error("--work-dir {dir}: {source}")]
    Registry {
        dir: std::path::PathBuf,
        source: registry::RegistryError,
    },
}

/// Runs the master until SIGINT or SIGTERM. Once it serves, prints
/// `corral master listening on http://IP:PORT` on stdout.
pub fn run(config: Config) -> Result<(), MasterError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(MasterError::Runtime)?;
    rt.block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), MasterError> {
    let addr = SocketAddr::new(config.ip, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| MasterError::Listen { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| MasterError::Listen { addr, source })?;
    let registry_err = |source| MasterError::Registry {
        dir: config.work_dir.clone(),
        source,
    };
    let registry = registry::Registry::open(&config.work_dir).map_err(registry_err)?;
    let snapshot = registry.load().map_err(registry_err)?;
    let id = format!("{}-{}", snapshot.cluster_id, snapshot.epoch);
    let recovered = (
        snapshot.agents.len(),
        snapshot.frameworks.len(),
        snapshot.tasks.len(),
    );
    let writer = registry::RegistryWriter::spawn(registry).map_err(registry_err)?;
    let info = master_info(&config, local, id);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let max_body = config.max_body_bytes;
    let mut master = core::Master::new(config, info).with_registry(writer);
    master.recover_from(snapshot, std::time::Instant::now());
    tokio::spawn(master.run(rx));
    if recovered != (0, 0, 0) {
        eprintln!(
            "corral master: recovered {} agents, {} frameworks, {} tasks from the registry",
            recovered.0, recovered.1, recovered.2
        );
    }
    let app = http::router(http::Shared { master: tx.clone() }, max_body);
    println!("corral master listening on http://{local}");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    service::ready(
        service::notifier(),
        &format!(
            "serving on {local}; recovered {} agents, {} frameworks, {} tasks",
            recovered.0, recovered.1, recovered.2
        ),
        tx,
    );
    // Subscriptions are endless streams: graceful shutdown alone would wait
    // for them forever. Requests in flight get a moment, then the master
    // exits; every subscription was committed before it was answered.
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown().await;
        service::stopping(&service::notifier());
        let _ = stopping_tx.send(());
    });
    tokio::select! {
        served = server => served.map_err(MasterError::Serve),
        () = async move {
            if stopping.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => Ok(()),
    }
}

/// How long requests in flight may take once SIGTERM or SIGINT came.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

async fn shutdown() {
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

fn master_info(config: &Config, addr: SocketAddr, id: String) -> corral_api::v1::MasterInfo {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
        std::net::IpAddr::V6(_) => 0,
    };
    corral_api::v1::MasterInfo {
        id,
        ip,
        port: u32::from(addr.port()),
        pid: Some(format!("master@{addr}")),
        hostname: Some(config.hostname.clone()),
        version: Some(http::MESOS_VERSION_STR.to_string()),
        address: Some(corral_api::v1::Address {
            hostname: Some(config.hostname.clone()),
            ip: Some(addr.ip().to_string()),
            port: i32::from(addr.port()),
        }),
        ..Default::default()
    }
}
