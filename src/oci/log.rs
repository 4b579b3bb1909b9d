//! Error reporting of the OCI command line: always to stderr, and to the
//! `--log` file in runc's text or JSON format (containerd's shim reads it).

use std::io::Write;
use std::path::PathBuf;

/// Format of the log file.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Where errors go.
#[derive(Debug)]
pub struct Logger {
    file: Option<PathBuf>,
    format: Format,
}

impl Logger {
    pub fn new(file: Option<PathBuf>, format: Format) -> Logger {
        Logger { file, format }
    }

    /// Reports an error.
    pub fn error(&self, msg: &str) {
        eprintln!("corral-oci: error: {msg}");
        let Some(path) = &self.file else { return };
        let time = corral_oci::state::rfc3339_now();
        let line = match self.format {
            Format::Json => {
                serde_json::json!({"level": "error", "msg": msg, "time": time}).to_string()
            }
            Format::Text => format!("time=\"{time}\" level=error msg={msg:?}"),
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut f) = file {
            let _ = writeln!(f, "{line}");
        }
    }
}
