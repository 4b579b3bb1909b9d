//! Small messages used across the API: labels, parameters, time and
//! duration, addresses and URLs, fault domains, kill policies, offer
//! filters, secrets and credentials.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::json::{self, Bytes, enums::proto_enum};

/// `Label`: a key with an optional value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Label {
    /// The key.
    pub key: String,
    /// The value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Label {
    /// A label `key=value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            key: key.into(),
            value: Some(value.into()),
        }
    }
}

/// `Labels`: a list of labels (keys may repeat).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Labels {
    /// The labels.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub labels: Vec<Label>,
}

impl Labels {
    /// The value of the first label with `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.key == key)
            .and_then(|l| l.value.as_deref())
    }
}

/// `Parameter`: a key/value pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Parameter {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

/// `Parameters`: a list of parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Parameters {
    /// The parameters.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parameter: Vec<Parameter>,
}

/// `TimeInfo`: nanoseconds since the epoch.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct TimeInfo {
    /// Nanoseconds since the epoch.
    #[serde(deserialize_with = "json::lenient::required")]
    pub nanoseconds: i64,
}

/// `DurationInfo`: a duration in nanoseconds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct DurationInfo {
    /// The duration in nanoseconds (may be negative on the wire).
    #[serde(deserialize_with = "json::lenient::required")]
    pub nanoseconds: i64,
}

impl DurationInfo {
    /// The duration, saturating at `i64::MAX` nanoseconds.
    pub fn from_duration(d: Duration) -> Self {
        DurationInfo {
            nanoseconds: i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        }
    }

    /// The duration, or `None` when negative.
    pub fn to_duration(self) -> Option<Duration> {
        u64::try_from(self.nanoseconds)
            .ok()
            .map(Duration::from_nanos)
    }
}

/// `Unavailability`: a maintenance window starting at `start`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Unavailability {
    /// When it starts.
    pub start: TimeInfo,
    /// How long it lasts; unset means forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationInfo>,
}

/// `Address`: a network address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Address {
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP address, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Port.
    #[serde(deserialize_with = "json::lenient::required")]
    pub port: i32,
}

/// `URL`: a URL split into parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Url {
    /// Scheme (`http`).
    pub scheme: String,
    /// Host and port.
    pub address: Address,
    /// Path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Query parameters.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub query: Vec<Parameter>,
    /// Fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
}

/// `DomainInfo.FaultDomain.RegionInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RegionInfo {
    /// Region name.
    pub name: String,
}

/// `DomainInfo.FaultDomain.ZoneInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ZoneInfo {
    /// Zone name.
    pub name: String,
}

/// `DomainInfo.FaultDomain`: region and zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FaultDomain {
    /// The region.
    pub region: RegionInfo,
    /// The zone.
    pub zone: ZoneInfo,
}

/// `DomainInfo`: where a master or agent sits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DomainInfo {
    /// The fault domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_domain: Option<FaultDomain>,
}

/// `KillPolicy`: how long to wait between the graceful and the forcible kill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KillPolicy {
    /// The grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<DurationInfo>,
}

/// `Filters`: how long declined resources stay away from the framework.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    /// Seconds (default 5; always printed, as the field has a proto default).
    #[serde(
        default = "json::defaults::refuse_seconds",
        deserialize_with = "json::defaults::refuse_seconds_or_default",
        serialize_with = "json::lenient::f64"
    )]
    pub refuse_seconds: f64,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            refuse_seconds: json::defaults::REFUSE_SECONDS,
        }
    }
}

proto_enum! {
    /// `Secret.Type`.
    pub enum SecretType {
        Unknown = 0 => "UNKNOWN",
        Reference = 1 => "REFERENCE",
        Value = 2 => "VALUE",
    }
}

/// `Secret.Reference`: a secret held by a secret store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretReference {
    /// Secret name.
    pub name: String,
    /// Key within the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// `Secret.Value`: a secret passed by value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretValue {
    /// The secret bytes.
    pub data: Bytes,
}

/// `Secret`: privileged data passed by value or by reference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Secret {
    /// Which field is set.
    #[serde(
        default,
        deserialize_with = "json::enums::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub r#type: Option<SecretType>,
    /// By reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<SecretReference>,
    /// By value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<SecretValue>,
}

/// `Credential`: a principal and its secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Credential {
    /// The principal.
    pub principal: String,
    /// The secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_default_is_five_seconds_and_always_printed() {
        let f: Filters = serde_json::from_str("{}").unwrap();
        assert_eq!(f, Filters::default());
        assert_eq!(f.refuse_seconds, 5.0);
        assert_eq!(
            serde_json::to_string(&f).unwrap(),
            r#"{"refuse_seconds":5.0}"#
        );
        let f: Filters = serde_json::from_str(r#"{"refuse_seconds": null}"#).unwrap();
        assert_eq!(f.refuse_seconds, 5.0);
        let f: Filters = serde_json::from_str(r#"{"refuse_seconds": "60"}"#).unwrap();
        assert_eq!(f.refuse_seconds, 60.0);
    }

    #[test]
    fn durations_convert() {
        let d = DurationInfo::from_duration(Duration::from_millis(1500));
        assert_eq!(d.nanoseconds, 1_500_000_000);
        assert_eq!(d.to_duration(), Some(Duration::from_millis(1500)));
        assert_eq!(DurationInfo { nanoseconds: -1 }.to_duration(), None);
        let k: KillPolicy =
            serde_json::from_str(r#"{"grace_period": {"nanoseconds": "3000000000"}}"#).unwrap();
        assert_eq!(
            k.grace_period.and_then(DurationInfo::to_duration),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn labels_lookup_and_round_trip() {
        let text = r#"{"labels":[{"key":"a","value":"1"},{"key":"b"}]}"#;
        let labels: Labels = serde_json::from_str(text).unwrap();
        assert_eq!(labels.get("a"), Some("1"));
        assert_eq!(labels.get("b"), None);
        assert_eq!(serde_json::to_string(&labels).unwrap(), text);
    }

    #[test]
    fn secret_value_is_base64() {
        let s: Secret =
            serde_json::from_str(r#"{"type":"VALUE","value":{"data":"c2VjcmV0"}}"#).unwrap();
        assert_eq!(s.r#type, Some(SecretType::Value));
        assert_eq!(s.value.unwrap().data.as_slice(), b"secret");
    }
}
