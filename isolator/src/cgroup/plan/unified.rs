//! `linux.resources.unified`: interface files written as given, after the
//! typed fields (a key replaces the typed write of the same file). Keys must
//! be plain file names of the cgroup's own directory; files that manage
//! membership, lifetime or the controller tree belong to the driver's API.
//! Whether the key's controller is enabled is checked when the plan is
//! applied, against the cgroup's cgroup.controllers.

use super::{Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use std::collections::HashMap;

/// Core files the driver owns: set through its methods, not `unified`.
const RESERVED: [&str; 6] = [
    "cgroup.procs",
    "cgroup.threads",
    "cgroup.kill",
    "cgroup.freeze",
    "cgroup.subtree_control",
    "cgroup.type",
];

/// Adds the `unified` writes to `p`, sorted by key, replacing typed writes to
/// the same files.
pub(super) fn plan(map: &HashMap<String, String>, p: &mut Plan) -> Result<(), CgroupError> {
    let mut entries: Vec<(&String, &String)> = map.iter().collect();
    entries.sort();
    for (key, _) in &entries {
        check_key(key)?;
    }
    p.writes.retain(|w| !map.contains_key(&w.file));
    for (key, value) in entries {
        p.push(Write::new(key.as_str(), value.as_str()));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), CgroupError> {
    let field = "unified";
    let shown = format!("{key:?}");
    if key.is_empty()
        || key.contains('/')
        || key.contains("..")
        || key.starts_with('.')
        || key.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            field,
            shown,
            "a key is one interface file name of the cgroup, such as \"memory.high\": no '/', \
             no '..', no spaces",
        ));
    }
    if !key.contains('.') {
        return Err(invalid(
            field,
            shown,
            "a key is CONTROLLER.PARAMETER, such as \"memory.high\" or \"pids.max\"",
        ));
    }
    if RESERVED.contains(&key) {
        return Err(invalid(
            field,
            shown,
            "the driver owns this file: use Cgroup::add_process, kill_all, freeze or \
             CgroupDriver::create instead",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(pairs: &[(&str, &str)]) -> Result<Plan, CgroupError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut p = Plan::default();
        plan(&map, &mut p).map(|()| p)
    }

    #[test]
    fn written_as_is_sorted_by_key() {
        let p = planned(&[
            ("memory.oom.group", "1"),
            ("memory.high", "1G"),
            ("memory.min", "0"),
        ])
        .unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("memory.high", "1G"),
                Write::new("memory.min", "0"),
                Write::new("memory.oom.group", "1"),
            ]
        );
    }

    #[test]
    fn path_like_keys_are_refused() {
        for key in [
            "../memory.max",
            "a/memory.max",
            "..",
            ".hidden",
            "memory. max",
            "",
        ] {
            let msg = planned(&[(key, "1")]).unwrap_err().to_string();
            assert!(msg.contains("no '/', no '..'"), "{key}: {msg}");
        }
    }

    #[test]
    fn keys_without_a_controller_are_refused() {
        let msg = planned(&[("max", "1")]).unwrap_err().to_string();
        assert!(msg.contains("CONTROLLER.PARAMETER"), "{msg}");
    }

    #[test]
    fn driver_owned_files_are_refused() {
        let msg = planned(&[("cgroup.procs", "1")]).unwrap_err().to_string();
        assert!(msg.contains("the driver owns this file"), "{msg}");
        assert!(planned(&[("cgroup.max.depth", "3")]).is_ok());
    }
}
