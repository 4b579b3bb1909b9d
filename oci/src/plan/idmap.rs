//! Id-mapped mounts (`mounts[].uidMappings`/`gidMappings`, the `idmap` and
//! `ridmap` options; runtime spec, config.md): which bind mounts get an id
//! mapping, with what maps, and whether it reaches the mounts below. Pure;
//! the runtime makes the mapped mount with open_tree(2) and
//! mount_setattr(2) MOUNT_ATTR_IDMAP (`crate::idmap`).

use super::PlanError;
use super::mounts::MountStep;
use oci_spec::runtime::{LinuxIdMapping, Mount};

/// The id mapping of one mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdMap {
    /// uid_map and gid_map of the user namespace that carries the mapping,
    /// as written to /proc/PID/uid_map (`ID-INSIDE ID-OUTSIDE COUNT` lines):
    /// a file owned by `containerID` on disk is seen as `hostID`.
    pub uid_map: String,
    pub gid_map: String,
    /// `ridmap`: the mapping reaches every mount below a `rbind`.
    pub recursive: bool,
}

/// The kernel's limit of lines in a uid_map or gid_map.
const MAX_LINES: usize = 340;

fn lines(maps: &[LinuxIdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size()))
        .collect()
}

/// Completes `step` (mount `index` of the spec, `m`) with its id mapping:
/// the mount's own maps, or with `idmap`/`ridmap` and no maps the
/// container's (`userns`: uid and gid maps of a new user namespace). The
/// option parser left `step.idmap` set when an option asked for a mapping.
pub fn resolve(
    index: usize,
    m: &Mount,
    step: &mut MountStep,
    userns: Option<(&str, &str)>,
) -> Result<(), PlanError> {
    let bad = |field: &str, problem: String| PlanError::Invalid {
        field: format!("mounts[{index}]{field}"),
        problem,
    };
    let uid = m.uid_mappings().clone().unwrap_or_default();
    let gid = m.gid_mappings().clone().unwrap_or_default();
    let asked = step.idmap.is_some();
    if uid.is_empty() && gid.is_empty() && !asked {
        return Ok(());
    }
    if !step.bind {
        return Err(bad(
            "",
            "id-mapped mounts are only supported for bind mounts: add \"bind\" or \"rbind\"".into(),
        ));
    }
    let (uid_map, gid_map) = match (uid.is_empty(), gid.is_empty()) {
        (false, false) => (lines(&uid), lines(&gid)),
        (true, false) => return Err(bad(".uidMappings", "missing: gidMappings needs it".into())),
        (false, true) => return Err(bad(".gidMappings", "missing: uidMappings needs it".into())),
        (true, true) => match userns {
            Some((u, g)) => (u.to_string(), g.to_string()),
            None => {
                return Err(bad(
                    ".options",
                    "idmap without uidMappings and gidMappings needs a new user namespace \
                     to take its mappings from"
                        .into(),
                ));
            }
        },
    };
    for (field, map) in [(".uidMappings", &uid_map), (".gidMappings", &gid_map)] {
        if map.lines().count() > MAX_LINES {
            return Err(bad(field, format!("more than {MAX_LINES} mappings")));
        }
        if map.lines().any(|l| l.ends_with(" 0")) {
            return Err(bad(field, "a mapping of size 0".into()));
        }
    }
    step.idmap = Some(IdMap {
        uid_map,
        gid_map,
        recursive: step.idmap.as_ref().is_some_and(|i| i.recursive),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::mounts;

    fn run(json: &str, userns: Option<(&str, &str)>) -> Result<Option<IdMap>, String> {
        let m: Mount = serde_json::from_str(json).unwrap();
        let mut step = mounts::plan(3, &m, &|_| true).map_err(|e| e.to_string())?;
        resolve(3, &m, &mut step, userns).map_err(|e| e.to_string())?;
        Ok(step.idmap)
    }

    const MAPS: &str = r#""uidMappings": [{"containerID": 1000, "hostID": 4242, "size": 1}],
        "gidMappings": [{"containerID": 1000, "hostID": 4343, "size": 2}]"#;

    #[test]
    fn a_bind_with_mappings_is_id_mapped_at_its_top_unless_ridmap() {
        let json =
            format!(r#"{{"destination": "/d", "source": "/s", "options": ["rbind"], {MAPS}}}"#);
        let i = run(&json, None).unwrap().unwrap();
        assert_eq!(i.uid_map, "1000 4242 1\n");
        assert_eq!(i.gid_map, "1000 4343 2\n");
        assert!(!i.recursive);
        let json = format!(
            r#"{{"destination": "/d", "source": "/s", "options": ["rbind", "ridmap"], {MAPS}}}"#
        );
        assert!(run(&json, None).unwrap().unwrap().recursive);
    }

    #[test]
    fn idmap_alone_takes_the_containers_user_namespace_maps() {
        let json = r#"{"destination": "/d", "source": "/s", "options": ["bind", "idmap"]}"#;
        let i = run(json, Some(("0 100000 65536\n", "0 200000 65536\n")))
            .unwrap()
            .unwrap();
        assert_eq!(
            (i.uid_map.as_str(), i.gid_map.as_str()),
            ("0 100000 65536\n", "0 200000 65536\n")
        );
        let e = run(json, None).unwrap_err();
        assert!(
            e.starts_with("mounts[3].options:") && e.contains("user namespace"),
            "{e}"
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let e = run(
            &format!(r#"{{"destination": "/d", "type": "tmpfs", "source": "tmpfs", {MAPS}}}"#),
            None,
        )
        .unwrap_err();
        assert!(
            e.starts_with("mounts[3]:") && e.contains("only supported for bind"),
            "{e}"
        );
        let e = run(
            r#"{"destination": "/d", "source": "/s", "options": ["bind"],
                "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}]}"#,
            None,
        )
        .unwrap_err();
        assert!(e.starts_with("mounts[3].gidMappings: missing"), "{e}");
        assert_eq!(
            run(
                r#"{"destination": "/d", "source": "/s", "options": ["bind"]}"#,
                None
            )
            .unwrap(),
            None
        );
    }
}
