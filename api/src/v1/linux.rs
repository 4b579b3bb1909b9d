//! Linux container settings carried in `ContainerInfo`: capabilities
//! (`CapabilityInfo`), namespaces sharing and seccomp (`LinuxInfo`),
//! rlimits (`RLimitInfo`) and the TTY (`TTYInfo`).

use serde::{Deserialize, Serialize};

use crate::json::{self, enums::proto_enum};

proto_enum! {
    /// `CapabilityInfo.Capability`: a Linux capability (numbers are the
    /// kernel's plus 1000).
    pub enum Capability {
        Unknown = 0 => "UNKNOWN",
        Chown = 1000 => "CHOWN",
        DacOverride = 1001 => "DAC_OVERRIDE",
        DacReadSearch = 1002 => "DAC_READ_SEARCH",
        Fowner = 1003 => "FOWNER",
        Fsetid = 1004 => "FSETID",
        Kill = 1005 => "KILL",
        Setgid = 1006 => "SETGID",
        Setuid = 1007 => "SETUID",
        Setpcap = 1008 => "SETPCAP",
        LinuxImmutable = 1009 => "LINUX_IMMUTABLE",
        NetBindService = 1010 => "NET_BIND_SERVICE",
        NetBroadcast = 1011 => "NET_BROADCAST",
        NetAdmin = 1012 => "NET_ADMIN",
        NetRaw = 1013 => "NET_RAW",
        IpcLock = 1014 => "IPC_LOCK",
        IpcOwner = 1015 => "IPC_OWNER",
        SysModule = 1016 => "SYS_MODULE",
        SysRawio = 1017 => "SYS_RAWIO",
        SysChroot = 1018 => "SYS_CHROOT",
        SysPtrace = 1019 => "SYS_PTRACE",
        SysPacct = 1020 => "SYS_PACCT",
        SysAdmin = 1021 => "SYS_ADMIN",
        SysBoot = 1022 => "SYS_BOOT",
        SysNice = 1023 => "SYS_NICE",
        SysResource = 1024 => "SYS_RESOURCE",
        SysTime = 1025 => "SYS_TIME",
        SysTtyConfig = 1026 => "SYS_TTY_CONFIG",
        Mknod = 1027 => "MKNOD",
        Lease = 1028 => "LEASE",
        AuditWrite = 1029 => "AUDIT_WRITE",
        AuditControl = 1030 => "AUDIT_CONTROL",
        Setfcap = 1031 => "SETFCAP",
        MacOverride = 1032 => "MAC_OVERRIDE",
        MacAdmin = 1033 => "MAC_ADMIN",
        Syslog = 1034 => "SYSLOG",
        WakeAlarm = 1035 => "WAKE_ALARM",
        BlockSuspend = 1036 => "BLOCK_SUSPEND",
        AuditRead = 1037 => "AUDIT_READ",
        Perfmon = 1038 => "PERFMON",
        Bpf = 1039 => "BPF",
        CheckpointRestore = 1040 => "CHECKPOINT_RESTORE",
    }
}

impl Capability {
    /// The kernel's capability number (`CAP_CHOWN` = 0), `None` for UNKNOWN.
    pub fn kernel_number(self) -> Option<u32> {
        u32::try_from(self.number() - 1000).ok()
    }
}

/// `CapabilityInfo`: a set of capabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityInfo {
    /// The capabilities (unknown names are dropped).
    #[serde(
        default,
        deserialize_with = "json::enums::repeated",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub capabilities: Vec<Capability>,
}

/// `SeccompInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeccompInfo {
    /// A profile known to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
    /// Run without seccomp.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub unconfined: Option<bool>,
}

proto_enum! {
    /// `LinuxInfo.IpcMode`.
    pub enum IpcMode {
        Unknown = 0 => "UNKNOWN",
        Private = 1 => "PRIVATE",
        ShareParent = 2 => "SHARE_PARENT",
    }
}

/// `LinuxInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinuxInfo {
    /// Deprecated: both bounding and effective capabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability_info: Option<CapabilityInfo>,
    /// The bounding set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding_capabilities: Option<CapabilityInfo>,
    /// The effective set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_capabilities: Option<CapabilityInfo>,
    /// Share the parent's PID namespace.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub share_pid_namespace: Option<bool>,
    /// Seccomp profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seccomp: Option<SeccompInfo>,
    /// IPC namespace and /dev/shm mode.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipc_mode: Option<IpcMode>,
    /// Size of /dev/shm in MB.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shm_size: Option<u32>,
    /// Share the parent's cgroups (default true; always printed).
    #[serde(
        default = "json::defaults::r#true",
        deserialize_with = "json::defaults::bool_or_true"
    )]
    pub share_cgroups: bool,
}

impl Default for LinuxInfo {
    fn default() -> Self {
        LinuxInfo {
            capability_info: None,
            bounding_capabilities: None,
            effective_capabilities: None,
            share_pid_namespace: None,
            seccomp: None,
            ipc_mode: None,
            shm_size: None,
            share_cgroups: true,
        }
    }
}

proto_enum! {
    /// `RLimitInfo.RLimit.Type`.
    pub enum RLimitType {
        Unknown = 0 => "UNKNOWN",
        As = 1 => "RLMT_AS",
        Core = 2 => "RLMT_CORE",
        Cpu = 3 => "RLMT_CPU",
        Data = 4 => "RLMT_DATA",
        Fsize = 5 => "RLMT_FSIZE",
        Locks = 6 => "RLMT_LOCKS",
        Memlock = 7 => "RLMT_MEMLOCK",
        Msgqueue = 8 => "RLMT_MSGQUEUE",
        Nice = 9 => "RLMT_NICE",
        Nofile = 10 => "RLMT_NOFILE",
        Nproc = 11 => "RLMT_NPROC",
        Rss = 12 => "RLMT_RSS",
        Rtprio = 13 => "RLMT_RTPRIO",
        Rttime = 14 => "RLMT_RTTIME",
        Sigpending = 15 => "RLMT_SIGPENDING",
        Stack = 16 => "RLMT_STACK",
    }
}

/// `RLimitInfo.RLimit`: one limit; unset `hard` and `soft` mean unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RLimit {
    /// Which limit.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<RLimitType>,
    /// Hard limit.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub hard: Option<u64>,
    /// Soft limit.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub soft: Option<u64>,
}

/// `RLimitInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RLimitInfo {
    /// The limits.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rlimits: Vec<RLimit>,
}

/// `TTYInfo.WindowSize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSize {
    /// Rows.
    #[serde(deserialize_with = "json::lenient::required")]
    pub rows: u32,
    /// Columns.
    #[serde(deserialize_with = "json::lenient::required")]
    pub columns: u32,
}

/// `TTYInfo`: allocate a TTY for the container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtyInfo {
    /// Initial window size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_size: Option<WindowSize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_info_parses_and_keeps_defaults() {
        let l: LinuxInfo = serde_json::from_str(
            r#"{"bounding_capabilities":{"capabilities":["NET_ADMIN","CAP_FOO","SYS_ADMIN"]},
                "share_pid_namespace":"false","ipc_mode":"PRIVATE","shm_size":"64"}"#,
        )
        .unwrap();
        let caps = l.bounding_capabilities.clone().unwrap().capabilities;
        assert_eq!(caps, vec![Capability::NetAdmin, Capability::SysAdmin]);
        assert_eq!(l.share_pid_namespace, Some(false));
        assert_eq!(l.ipc_mode, Some(IpcMode::Private));
        assert_eq!(l.shm_size, Some(64));
        assert!(l.share_cgroups);
        assert_eq!(serde_json::to_value(&l).unwrap()["share_cgroups"], true);
        assert_eq!(
            serde_json::from_str::<LinuxInfo>("{}").unwrap(),
            LinuxInfo::default()
        );
    }

    #[test]
    fn capability_kernel_numbers() {
        assert_eq!(Capability::Chown.kernel_number(), Some(0));
        assert_eq!(Capability::SysAdmin.kernel_number(), Some(21));
        assert_eq!(Capability::CheckpointRestore.kernel_number(), Some(40));
        assert_eq!(Capability::Unknown.kernel_number(), None);
    }

    #[test]
    fn rlimits() {
        let r: RLimitInfo = serde_json::from_str(
            r#"{"rlimits":[{"type":"RLMT_NOFILE","soft":1024,"hard":"4096"},{"type":"RLMT_CORE"}]}"#,
        )
        .unwrap();
        assert_eq!(r.rlimits[0].r#type, Some(RLimitType::Nofile));
        assert_eq!(
            (r.rlimits[0].soft, r.rlimits[0].hard),
            (Some(1024), Some(4096))
        );
        assert_eq!(r.rlimits[1].hard, None);
    }
}
