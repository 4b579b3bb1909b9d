//! Reading a standalone seccomp profile (the `linux.seccomp` object of
//! config.json, as Docker and containerd ship them) from JSON, with errors
//! that name the offending field: an unknown action, operator, architecture or
//! flag is reported as e.g. `linux.seccomp.syscalls[3].action: unknown variant
//! `SCMP_ACT_FOO`, expected one of …`.

use oci_spec::runtime::LinuxSeccomp;

use super::error::SeccompError;
use super::plan::ROOT;

/// Parses a seccomp profile from JSON.
pub fn parse_profile(json: &str) -> Result<LinuxSeccomp, SeccompError> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let path = if inner == "." {
            ROOT.to_string()
        } else {
            format!("{ROOT}.{inner}")
        };
        SeccompError::Parse {
            path,
            message: e.into_inner().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        parse_profile(json).unwrap_err().to_string()
    }

    #[test]
    fn a_profile_parses() {
        let p = parse_profile(
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,
                "architectures":["SCMP_ARCH_X86_64"],"flags":["SECCOMP_FILTER_FLAG_LOG"],
                "syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW",
                  "args":[{"index":0,"value":1,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
        )
        .unwrap();
        assert_eq!(p.default_errno_ret(), Some(1));
        assert_eq!(p.syscalls().as_ref().unwrap().len(), 1);
    }

    #[test]
    fn an_unknown_action_names_its_path_and_value() {
        let e = err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write"],"action":"SCMP_ACT_BOGUS"}]}"#);
        assert!(e.starts_with("linux.seccomp.syscalls[1].action: "), "{e}");
        assert!(e.contains("SCMP_ACT_BOGUS"), "{e}");
    }

    #[test]
    fn an_unknown_operator_names_its_path() {
        let e = err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["read"],"action":"SCMP_ACT_ERRNO",
             "args":[{"index":0,"value":1,"op":"SCMP_CMP_ALMOST"}]}]}"#);
        assert!(
            e.starts_with("linux.seccomp.syscalls[0].args[0].op: "),
            "{e}"
        );
        assert!(e.contains("SCMP_CMP_ALMOST"), "{e}");
    }

    #[test]
    fn an_unknown_arch_or_flag_names_its_path() {
        let e = err(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#);
        assert!(e.starts_with("linux.seccomp.architectures[0]: "), "{e}");
        assert!(e.contains("SCMP_ARCH_VAX"), "{e}");
        let e = err(r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FAST"]}"#);
        assert!(e.starts_with("linux.seccomp.flags[0]: "), "{e}");
        assert!(e.contains("SECCOMP_FILTER_FLAG_FAST"), "{e}");
    }

    #[test]
    fn malformed_json_names_the_profile() {
        let e = err("{");
        assert!(e.starts_with("linux.seccomp"), "{e}");
    }
}
