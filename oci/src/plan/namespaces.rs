//! Namespaces: which ones the clone creates, which ones are joined by path
//! (and in what order), and whether joining needs a second fork.

use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType};
use std::path::PathBuf;

/// A namespace joined with setns(2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// The CLONE_NEW* constant of the namespace type.
    pub nstype: i32,
    /// The namespace file, e.g. /proc/1234/ns/net.
    pub path: PathBuf,
}

/// The namespace part of a launch plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamespacePlan {
    /// CLONE_NEW* flags for namespaces created by the clone itself.
    pub clone_flags: u64,
    /// A new cgroup namespace, unshared by the child once it is in its cgroup.
    pub new_cgroup_ns: bool,
    /// A new time namespace, unshared by the child: a namespace made by the
    /// clone would already hold the child, and the kernel only takes
    /// offsets before a process enters it. The child writes them, then
    /// enters it with setns.
    pub new_time: bool,
    /// Namespaces joined in this order: user first (it grants the rights to
    /// join the others), mount last (its paths would hide the others).
    pub joins: Vec<Join>,
    /// Joining a pid namespace only affects children: one more fork.
    pub fork_after_setns: bool,
    pub new_user: bool,
    pub new_mount: bool,
    pub new_pid: bool,
    pub new_uts: bool,
    pub new_net: bool,
    pub any_mount: bool,
    pub any_uts: bool,
}

/// The CLONE_NEW* value of a namespace type.
pub fn clone_flag(t: LinuxNamespaceType) -> i32 {
    match t {
        LinuxNamespaceType::Mount => libc::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => libc::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => libc::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => libc::CLONE_NEWIPC,
        LinuxNamespaceType::User => libc::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => libc::CLONE_NEWPID,
        LinuxNamespaceType::Network => libc::CLONE_NEWNET,
        LinuxNamespaceType::Time => libc::CLONE_NEWTIME,
    }
}

fn join_rank(nstype: i32) -> u8 {
    match nstype {
        libc::CLONE_NEWUSER => 0,
        libc::CLONE_NEWNS => 2,
        _ => 1,
    }
}

/// Plans the namespaces of `list` (already validated: no duplicates).
pub fn plan(list: &[LinuxNamespace]) -> NamespacePlan {
    let mut p = NamespacePlan::default();
    for ns in list {
        let flag = clone_flag(ns.typ());
        match ns.path() {
            Some(path) => {
                p.joins.push(Join {
                    nstype: flag,
                    path: path.clone(),
                });
                if flag == libc::CLONE_NEWPID {
                    p.fork_after_setns = true;
                }
            }
            None if flag == libc::CLONE_NEWCGROUP => p.new_cgroup_ns = true,
            None if flag == libc::CLONE_NEWTIME => p.new_time = true,
            None => p.clone_flags |= flag as u64,
        }
    }
    p.joins.sort_by_key(|j| join_rank(j.nstype));
    let has = |flag: i32| p.clone_flags & flag as u64 != 0;
    p.new_user = has(libc::CLONE_NEWUSER);
    p.new_mount = has(libc::CLONE_NEWNS);
    p.new_pid = has(libc::CLONE_NEWPID);
    p.new_uts = has(libc::CLONE_NEWUTS);
    p.new_net = has(libc::CLONE_NEWNET);
    let joined = |flag: i32| p.joins.iter().any(|j| j.nstype == flag);
    p.any_mount = p.new_mount || joined(libc::CLONE_NEWNS);
    p.any_uts = p.new_uts || joined(libc::CLONE_NEWUTS);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(json: &str) -> Vec<LinuxNamespace> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn new_namespaces_become_clone_flags() {
        let p = plan(&ns(
            r#"[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"network"},{"type":"cgroup"},{"type":"time"}]"#,
        ));
        let want = libc::CLONE_NEWPID
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS
            | libc::CLONE_NEWNET;
        assert_eq!(p.clone_flags, want as u64);
        assert!(p.new_cgroup_ns, "cgroup ns is unshared once in the cgroup");
        assert!(p.new_time, "time ns is unshared, its offsets written first");
        assert!(p.joins.is_empty());
        assert!(!p.fork_after_setns);
    }

    #[test]
    fn joins_are_ordered_user_first_mount_last_and_pid_forks() {
        let p = plan(&ns(
            r#"[{"type":"mount","path":"/proc/1/ns/mnt"},{"type":"network","path":"/proc/1/ns/net"},
                {"type":"user","path":"/proc/1/ns/user"},{"type":"pid","path":"/proc/1/ns/pid"}]"#,
        ));
        let order: Vec<i32> = p.joins.iter().map(|j| j.nstype).collect();
        assert_eq!(order[0], libc::CLONE_NEWUSER);
        assert_eq!(order[3], libc::CLONE_NEWNS);
        assert!(p.fork_after_setns);
        assert_eq!(p.clone_flags, 0);
        assert!(p.any_mount && !p.new_mount);
    }
}
