//! Fields with a proto default (`[default = …]`).
//!
//! stout's printer writes such a field even when it is unset (unless it is
//! deprecated), and a reader that finds it unset sees the default; so these
//! fields are plain values here, filled with the default when absent or
//! `null` and always printed. Use `default = "…"` for absence and
//! `deserialize_with = "…"` for `null`.

use serde::Deserializer;

use super::lenient;

/// `FrameworkInfo.failover_timeout`, in seconds.
pub const FAILOVER_TIMEOUT: f64 = 0.0;
/// `Filters.refuse_seconds`.
pub const REFUSE_SECONDS: f64 = 5.0;
/// `AgentInfo.port`.
pub const AGENT_PORT: i32 = 5051;
/// `MasterInfo.port`.
pub const MASTER_PORT: u32 = 5050;

/// `true`, for `#[serde(default = "…")]`.
pub fn r#true() -> bool {
    true
}

/// [`REFUSE_SECONDS`], for `#[serde(default = "…")]`.
pub fn refuse_seconds() -> f64 {
    REFUSE_SECONDS
}

/// [`AGENT_PORT`], for `#[serde(default = "…")]`.
pub fn agent_port() -> i32 {
    AGENT_PORT
}

/// A lenient bool; `null` is `true`.
pub fn bool_or_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient::option(d)?.unwrap_or(true))
}

/// A lenient bool; `null` is `false`.
pub fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(lenient::option(d)?.unwrap_or(false))
}

/// A lenient double; `null` is [`FAILOVER_TIMEOUT`].
pub fn failover_timeout_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(lenient::option(d)?.unwrap_or(FAILOVER_TIMEOUT))
}

/// A lenient double; `null` is [`REFUSE_SECONDS`].
pub fn refuse_seconds_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(lenient::option(d)?.unwrap_or(REFUSE_SECONDS))
}

/// A lenient 32-bit integer; `null` is [`AGENT_PORT`].
pub fn agent_port_or_default<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    Ok(lenient::option(d)?.unwrap_or(AGENT_PORT))
}
