//! Where a container's scope lives: runc's systemd `cgroupsPath` convention
//! `SLICE:PREFIX:NAME` names the transient unit `PREFIX-NAME.scope` in
//! `SLICE` (`corral.slice` when empty), and systemd puts its cgroup at the
//! slice's nested directory (`a-b.slice` is `a.slice/a-b.slice`). Pure.

use std::path::PathBuf;

/// The slice containers go to when a cgroupsPath names none.
pub const DEFAULT_SLICE: &str = "corral.slice";
/// The unit-name prefix of corral's own scopes.
pub const DEFAULT_PREFIX: &str = "corral";

/// A transient scope and the slice it is started in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePath {
    /// The slice unit, e.g. `corral.slice`.
    pub slice: String,
    /// The scope unit, e.g. `corral-abc.scope`.
    pub unit: String,
}

impl ScopePath {
    /// Parses `SLICE:PREFIX:NAME`; an empty SLICE is [`DEFAULT_SLICE`], an
    /// empty PREFIX gives `NAME.scope`. Says what is wrong otherwise.
    pub fn parse(path: &str) -> Result<ScopePath, String> {
        let parts: Vec<&str> = path.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return Err(format!(
                "{path:?} is not a systemd cgroupsPath: give SLICE:PREFIX:NAME, e.g. \
                 \"system.slice:corral:abc\" for corral-abc.scope in system.slice \
                 (an empty SLICE means {DEFAULT_SLICE})"
            ));
        };
        let slice = if slice.is_empty() {
            DEFAULT_SLICE
        } else {
            slice
        };
        slice_dir(slice)?;
        if name.is_empty() {
            return Err(format!("{path:?}: the NAME part is empty"));
        }
        if name.ends_with(".slice") {
            return Err(format!(
                "{path:?}: NAME is a slice; the systemd driver runs containers in scopes only"
            ));
        }
        let unit = match prefix {
            "" => format!("{name}.scope"),
            p => format!("{p}-{name}.scope"),
        };
        check_unit_name(&unit)?;
        Ok(ScopePath {
            slice: slice.to_string(),
            unit,
        })
    }

    /// The scope of container `id` in `slice`: `SLICE:corral:ID`.
    pub fn for_container(slice: &str, id: &str) -> Result<ScopePath, String> {
        ScopePath::parse(&format!("{slice}:{DEFAULT_PREFIX}:{id}"))
    }

    /// Its `SLICE:PREFIX:NAME` form with corral's prefix, for a cgroupsPath.
    pub fn cgroups_path(slice: &str, id: &str) -> String {
        format!("{slice}:{DEFAULT_PREFIX}:{id}")
    }

    /// The scope's cgroup directory relative to the cgroup2 mount.
    pub fn cgroup_dir(&self) -> PathBuf {
        slice_dir(&self.slice)
            .expect("checked by parse")
            .join(&self.unit)
    }
}

/// A slice's cgroup directory relative to the mount: each `-` opens a level
/// (`a-b-c.slice` is `a.slice/a-b.slice/a-b-c.slice`); `-.slice` is the
/// root itself.
pub fn slice_dir(slice: &str) -> Result<PathBuf, String> {
    let bad = |why: &str| Err(format!("slice {slice:?} is invalid: {why}"));
    let Some(stem) = slice.strip_suffix(".slice") else {
        return bad("a slice name ends in .slice");
    };
    if stem == "-" {
        return Ok(PathBuf::new());
    }
    check_unit_name(slice)?;
    if stem.is_empty() || stem.starts_with('-') || stem.ends_with('-') || stem.contains("--") {
        return bad("dashes separate non-empty levels, e.g. a-b.slice");
    }
    let mut dir = PathBuf::new();
    let mut upto = String::new();
    for (i, level) in stem.split('-').enumerate() {
        if i > 0 {
            upto.push('-');
        }
        upto.push_str(level);
        dir.push(format!("{upto}.slice"));
    }
    Ok(dir)
}

/// systemd's unit-name rule: at most 255 bytes of `[A-Za-z0-9:_.\-@]`.
fn check_unit_name(unit: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || ":_.-\\@".contains(c);
    if unit.len() > 255 || !unit.chars().all(ok) {
        return Err(format!(
            "{unit:?} is not a valid systemd unit name (at most 255 of A-Z a-z 0-9 : _ . - \\ @)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_cgroups_paths_name_a_scope_in_a_slice() {
        let p = ScopePath::parse("system.slice:corral:abc").unwrap();
        assert_eq!(p.slice, "system.slice");
        assert_eq!(p.unit, "corral-abc.scope");
        assert_eq!(
            p.cgroup_dir(),
            PathBuf::from("system.slice/corral-abc.scope")
        );
        let p = ScopePath::parse("::abc").unwrap();
        assert_eq!(
            (p.slice.as_str(), p.unit.as_str()),
            ("corral.slice", "abc.scope")
        );
        let p = ScopePath::parse("a-b.slice:x:y").unwrap();
        assert_eq!(p.cgroup_dir(), PathBuf::from("a.slice/a-b.slice/x-y.scope"));
        let p = ScopePath::for_container("corral.slice", "c1").unwrap();
        assert_eq!(
            p.cgroup_dir(),
            PathBuf::from("corral.slice/corral-c1.scope")
        );
        assert_eq!(
            ScopePath::cgroups_path("corral.slice", "c1"),
            "corral.slice:corral:c1"
        );
    }

    #[test]
    fn malformed_paths_are_refused_with_the_convention() {
        for bad in [
            "corral/containers/c1",
            "a:b",
            "a:b:c:d",
            "system:corral:abc",
            "system.slice:corral:",
            "system.slice:corral:x.slice",
            "system.slice:corral:a/b",
            "-a.slice:p:n",
            "a--b.slice:p:n",
        ] {
            assert!(ScopePath::parse(bad).is_err(), "{bad} was accepted");
        }
        let msg = ScopePath::parse("corral/x").unwrap_err();
        assert!(msg.contains("SLICE:PREFIX:NAME"), "{msg}");
    }

    #[test]
    fn slices_nest_by_dash() {
        assert_eq!(slice_dir("-.slice").unwrap(), PathBuf::new());
        assert_eq!(
            slice_dir("corral.slice").unwrap(),
            PathBuf::from("corral.slice")
        );
        assert_eq!(
            slice_dir("a-b-c.slice").unwrap(),
            PathBuf::from("a.slice/a-b.slice/a-b-c.slice")
        );
        assert!(slice_dir("a-.slice").is_err());
        assert!(slice_dir("nope").is_err());
    }
}
