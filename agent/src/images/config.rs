//! The image configuration (the config blob of the manifest): the
//! platform it was built for, the layers' uncompressed digests and the
//! runtime defaults tasks inherit (`Env`, `Entrypoint`, `Cmd`,
//! `WorkingDir`, `User`).

use serde::Deserialize;

/// The runtime defaults of an image (`config` in the config blob).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct RuntimeConfig {
    #[serde(rename = "Env", default, deserialize_with = "nullable")]
    pub env: Vec<String>,
    #[serde(rename = "Entrypoint", default, deserialize_with = "nullable")]
    pub entrypoint: Vec<String>,
    #[serde(rename = "Cmd", default, deserialize_with = "nullable")]
    pub cmd: Vec<String>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "User", default)]
    pub user: Option<String>,
}

fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// The config blob, as far as the agent uses it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub config: Option<RuntimeConfig>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

/// This machine's architecture in OCI's words.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

impl ImageConfig {
    /// The layers' uncompressed digests (`rootfs.diff_ids`).
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs.as_ref().map_or(&[], |r| &r.diff_ids)
    }

    /// Refuses an image built for another OS or architecture.
    pub fn check_platform(&self) -> Result<(), String> {
        if let Some(os) = self.os.as_deref().filter(|o| *o != "linux") {
            return Err(format!("it is built for {os}, not linux"));
        }
        let host = host_architecture();
        if let Some(a) = self.architecture.as_deref().filter(|a| *a != host) {
            return Err(format!("it is built for {a}, this agent is {host}"));
        }
        Ok(())
    }

    /// The runtime defaults (empty when the image has none).
    pub fn runtime(&self) -> RuntimeConfig {
        self.config.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_blob_fields_and_platform() {
        let text = format!(
            r#"{{"architecture":"{}","os":"linux","config":{{"Env":["PATH=/bin"],"Cmd":["sh"],
            "Entrypoint":null,"WorkingDir":"/srv","User":"1000:1000"}},
            "rootfs":{{"type":"layers","diff_ids":["sha256:aa"]}}}}"#,
            host_architecture()
        );
        let c: ImageConfig = serde_json::from_str(&text).unwrap();
        assert!(c.check_platform().is_ok());
        let r = c.runtime();
        assert_eq!(r.env, ["PATH=/bin"]);
        assert_eq!(r.cmd, ["sh"]);
        assert!(r.entrypoint.is_empty());
        assert_eq!(r.working_dir.as_deref(), Some("/srv"));
        assert_eq!(c.diff_ids(), ["sha256:aa"]);
        let other: ImageConfig =
            serde_json::from_str(r#"{"architecture":"s390x","os":"linux"}"#).unwrap();
        assert!(other.check_platform().unwrap_err().contains("s390x"));
        let win: ImageConfig = serde_json::from_str(r#"{"os":"windows"}"#).unwrap();
        assert!(win.check_platform().unwrap_err().contains("windows"));
    }
}
