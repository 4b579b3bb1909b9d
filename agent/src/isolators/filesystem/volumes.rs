//! `ContainerInfo.volumes` as bind mounts, as Mesos' `volume/host_path`
//! and `volume/sandbox_path` isolators make them, planned by the
//! `filesystem/linux` isolator after the sandbox's own mount:
//!
//! - a HOST_PATH source (or the deprecated `host_path` field): the host
//!   path, which must be absolute and exist, bound recursively, `ro` for
//!   mode RO; propagation rslave (HOST_TO_CONTAINER, Mesos' default) or
//!   rshared (BIDIRECTIONAL);
//! - a SANDBOX_PATH source of type SELF: a path inside the task's own
//!   sandbox (no `..`, made as a folder of the task's user when
//!   missing), bound the same way; PARENT needs a nested
//!   container, which corral has not;
//! - `container_path`: absolute, or relative to the sandbox
//!   (`/mnt/mesos/sandbox`), never with `..`.
//!
//! Every other source (Docker volumes, secrets, CSI, images) is refused,
//! naming the volume: nothing a task asks for is silently left out.

use super::linux::SANDBOX;
use corral_api::v1::{MountPropagationMode, SandboxPathType, Volume, VolumeMode, VolumeSourceType};
use serde_json::{Value, json};
use std::path::{Component, Path};

fn no_dotdot(p: &str) -> bool {
    !Path::new(p).components().any(|c| c == Component::ParentDir)
}

/// The sandbox paths (relative) that SANDBOX_PATH volumes take their
/// source from: made before the launch when missing, as Mesos does.
pub fn sandbox_sources(volumes: &[Volume]) -> Vec<String> {
    volumes
        .iter()
        .filter_map(|v| v.source.as_ref())
        .filter(|s| s.r#type == Some(VolumeSourceType::SandboxPath))
        .filter_map(|s| s.sandbox_path.as_ref())
        .filter(|s| s.r#type != Some(SandboxPathType::Parent))
        .map(|s| s.path.trim_start_matches('/').to_string())
        .filter(|rel| !rel.is_empty() && no_dotdot(rel))
        .collect()
}

/// The OCI mounts of `volumes` for a task whose sandbox is `sandbox` on
/// the host; `exists` says whether a host path exists.
pub fn mounts(
    volumes: &[Volume],
    sandbox: &Path,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Vec<Value>, String> {
    volumes
        .iter()
        .enumerate()
        .map(|(i, v)| mount(v, sandbox, exists).map_err(|e| format!("volumes[{i}]: {e}")))
        .collect()
}

fn mount(v: &Volume, sandbox: &Path, exists: &dyn Fn(&Path) -> bool) -> Result<Value, String> {
    let dest = destination(&v.container_path)?;
    let source = v.source.as_ref();
    let (src, propagation) = match (source.and_then(|s| s.r#type), &v.host_path) {
        (Some(VolumeSourceType::HostPath), _) => {
            let h = source
                .and_then(|s| s.host_path.as_ref())
                .ok_or("source.type is HOST_PATH but source.host_path is missing")?;
            let mode = h.mount_propagation.as_ref().and_then(|p| p.mode);
            (host(&h.path, exists)?, mode)
        }
        (None, Some(path)) => (host(path, exists)?, None),
        (Some(VolumeSourceType::SandboxPath), _) => {
            let s = source
                .and_then(|s| s.sandbox_path.as_ref())
                .ok_or("source.type is SANDBOX_PATH but source.sandbox_path is missing")?;
            if s.r#type == Some(SandboxPathType::Parent) {
                return Err(
                    "a PARENT sandbox path needs a nested container, which corral does not run"
                        .into(),
                );
            }
            let rel = s.path.trim_start_matches('/');
            if rel.is_empty() || !no_dotdot(rel) {
                return Err(format!(
                    "sandbox path {:?} must name a path inside the sandbox",
                    s.path
                ));
            }
            (sandbox.join(rel).to_string_lossy().into_owned(), None)
        }
        (Some(other), _) => {
            return Err(format!(
                "{} volumes are not supported by corral (HOST_PATH and SANDBOX_PATH are)",
                other.name()
            ));
        }
        (None, None) if v.image.is_some() => {
            return Err("image volumes are not supported by corral".into());
        }
        (None, None) => return Err("the volume has no source".into()),
    };
    let mut options = vec!["rbind"];
    options.push(match propagation {
        Some(MountPropagationMode::Bidirectional) => "rshared",
        _ => "rslave",
    });
    if v.mode == VolumeMode::Ro {
        options.push("ro");
    }
    Ok(json!({"destination": dest, "type": "bind", "source": src, "options": options}))
}

fn host(path: &str, exists: &dyn Fn(&Path) -> bool) -> Result<String, String> {
    let p = Path::new(path);
    if !p.is_absolute() || !no_dotdot(path) {
        return Err(format!("host path {path:?} must be absolute, without '..'"));
    }
    if !exists(p) {
        return Err(format!("host path {path:?} does not exist on the agent"));
    }
    Ok(path.to_string())
}

/// Where the volume goes in the container.
fn destination(container_path: &str) -> Result<String, String> {
    if container_path.is_empty() || !no_dotdot(container_path) {
        return Err(format!(
            "container_path {container_path:?} must be a path without '..'"
        ));
    }
    Ok(match container_path.starts_with('/') {
        true => container_path.to_string(),
        false => format!("{SANDBOX}/{container_path}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(json: &str) -> Volume {
        corral_api::json::from_slice(json.as_bytes()).unwrap()
    }

    fn plan(json: &str) -> Result<Vec<Value>, String> {
        let exists = |p: &Path| p != Path::new("/missing");
        mounts(&[volume(json)], Path::new("/work/sandboxes/c1"), &exists)
    }

    #[test]
    fn host_and_sandbox_paths_become_bind_mounts() {
        let m = plan(
            r#"{"mode":"RO","container_path":"/data","source":{"type":"HOST_PATH","host_path":{"path":"/srv/data"}}}"#,
        )
        .unwrap();
        assert_eq!(
            m[0],
            json!({"destination": "/data", "type": "bind", "source": "/srv/data",
                   "options": ["rbind", "rslave", "ro"]})
        );
        let m = plan(
            r#"{"mode":"RW","container_path":"cache","source":{"type":"HOST_PATH","host_path":{"path":"/srv/cache","mount_propagation":{"mode":"BIDIRECTIONAL"}}}}"#,
        )
        .unwrap();
        assert_eq!(m[0]["destination"], "/mnt/mesos/sandbox/cache");
        assert_eq!(m[0]["options"], json!(["rbind", "rshared"]));
        let m = plan(r#"{"mode":"RW","container_path":"/old","host_path":"/srv/old"}"#).unwrap();
        assert_eq!(m[0]["source"], "/srv/old");
        let m = plan(
            r#"{"mode":"RO","container_path":"/in","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"SELF","path":"shared/x"}}}"#,
        )
        .unwrap();
        assert_eq!(m[0]["source"], "/work/sandboxes/c1/shared/x");
    }

    #[test]
    fn what_cannot_be_mounted_is_refused_naming_the_volume() {
        for (json, problem) in [
            (
                r#"{"mode":"RO","container_path":"/d","source":{"type":"HOST_PATH","host_path":{"path":"/missing"}}}"#,
                "does not exist",
            ),
            (
                r#"{"mode":"RO","container_path":"/d","host_path":"relative/x"}"#,
                "must be absolute",
            ),
            (
                r#"{"mode":"RO","container_path":"../up","host_path":"/srv"}"#,
                "without '..'",
            ),
            (
                r#"{"mode":"RO","container_path":"/d","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"SELF","path":"../../etc"}}}"#,
                "inside the sandbox",
            ),
            (
                r#"{"mode":"RO","container_path":"/d","source":{"type":"SANDBOX_PATH","sandbox_path":{"type":"PARENT","path":"x"}}}"#,
                "nested container",
            ),
            (
                r#"{"mode":"RW","container_path":"/d","source":{"type":"DOCKER_VOLUME","docker_volume":{"name":"v"}}}"#,
                "DOCKER_VOLUME volumes are not supported",
            ),
            (r#"{"mode":"RW","container_path":"/d"}"#, "no source"),
        ] {
            let e = plan(json).unwrap_err();
            assert!(e.starts_with("volumes[0]: "), "{e}");
            assert!(e.contains(problem), "{json}: {e}");
        }
    }
}
