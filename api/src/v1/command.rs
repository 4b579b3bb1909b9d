//! `CommandInfo`: what to run (a shell command or an argv), the URIs to
//! fetch first and the environment (`Environment`).

use serde::{Deserialize, Deserializer, Serialize};

use super::common::Secret;
use crate::json::{self, enums::proto_enum};

/// `CommandInfo.URI`: something to fetch into the sandbox before running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandUri {
    /// The URI.
    pub value: String,
    /// Make the fetched file executable.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub executable: Option<bool>,
    /// Extract archives (default true; always printed).
    #[serde(
        default = "json::defaults::r#true",
        deserialize_with = "json::defaults::bool_or_true"
    )]
    pub extract: bool,
    /// Use the fetcher cache.
    #[serde(
        default,
        deserialize_with = "json::lenient::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cache: Option<bool>,
    /// File name in the sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_file: Option<String>,
}

impl CommandUri {
    /// A URI with default flags.
    pub fn new(value: impl Into<String>) -> Self {
        CommandUri {
            value: value.into(),
            executable: None,
            extract: true,
            cache: None,
            output_file: None,
        }
    }
}

impl Default for CommandUri {
    fn default() -> Self {
        CommandUri::new("")
    }
}

proto_enum! {
    /// `Environment.Variable.Type`.
    pub enum VariableType {
        Unknown = 0 => "UNKNOWN",
        Value = 1 => "VALUE",
        Secret = 2 => "SECRET",
    }
}

fn variable_type_default() -> VariableType {
    VariableType::Value
}

fn variable_type<'de, D: Deserializer<'de>>(d: D) -> Result<VariableType, D::Error> {
    Ok(json::enums::option(d)?.unwrap_or(VariableType::Value))
}

/// `Environment.Variable`: a value or a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Variable name.
    pub name: String,
    /// VALUE or SECRET (default VALUE; always printed).
    #[serde(default = "variable_type_default", deserialize_with = "variable_type")]
    pub r#type: VariableType,
    /// The value, for VALUE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The secret, for SECRET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
}

impl Variable {
    /// `name=value`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Variable {
            name: name.into(),
            r#type: VariableType::Value,
            value: Some(value.into()),
            secret: None,
        }
    }
}

/// `Environment`: environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// The variables.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variables: Vec<Variable>,
}

/// `CommandInfo`: `/bin/sh -c value` when `shell`, else `value` run with
/// `arguments` as argv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// URIs to fetch into the sandbox.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub uris: Vec<CommandUri>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// Run through the shell (default true; always printed).
    #[serde(
        default = "json::defaults::r#true",
        deserialize_with = "json::defaults::bool_or_true"
    )]
    pub shell: bool,
    /// The command line (shell) or the executable (not shell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// argv, when not `shell`.
    #[serde(
        default,
        deserialize_with = "json::nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arguments: Vec<String>,
    /// User to run as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl Default for CommandInfo {
    fn default() -> Self {
        CommandInfo {
            uris: Vec::new(),
            environment: None,
            shell: true,
            value: None,
            arguments: Vec::new(),
            user: None,
        }
    }
}

impl CommandInfo {
    /// A shell command.
    pub fn shell(command: impl Into<String>) -> Self {
        CommandInfo {
            value: Some(command.into()),
            ..CommandInfo::default()
        }
    }

    /// An argv command (not through the shell); `argv[0]` is the executable.
    pub fn argv(argv: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let arguments: Vec<String> = argv.into_iter().map(Into::into).collect();
        CommandInfo {
            shell: false,
            value: arguments.first().cloned(),
            arguments,
            ..CommandInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_are_printed() {
        let c: CommandInfo = serde_json::from_str(r#"{"value":"sleep 1000"}"#).unwrap();
        assert_eq!(c, CommandInfo::shell("sleep 1000"));
        assert!(c.shell);
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"shell":true,"value":"sleep 1000"}"#
        );
        assert_eq!(
            serde_json::from_str::<CommandInfo>("{}").unwrap(),
            CommandInfo::default()
        );
    }

    #[test]
    fn full_command_round_trips() {
        let text = r#"{"uris":[{"value":"http://x/a.tgz","executable":"false","cache":true,
            "output_file":"a.tgz"}],"environment":{"variables":[{"name":"A","value":"1"},
            {"name":"B","type":"SECRET","secret":{"type":"REFERENCE","reference":{"name":"s"}}}]},
            "shell":"false","value":"/bin/echo","arguments":["echo","hi"],"user":"nobody"}"#;
        let c: CommandInfo = serde_json::from_str(text).unwrap();
        assert!(!c.shell);
        assert_eq!(c.uris[0].executable, Some(false));
        assert!(c.uris[0].extract);
        let vars = &c.environment.as_ref().unwrap().variables;
        assert_eq!(vars[0], Variable::new("A", "1"));
        assert_eq!(vars[1].r#type, VariableType::Secret);
        assert_eq!(c.arguments, ["echo", "hi"]);
        let out = serde_json::to_value(&c).unwrap();
        assert_eq!(out["uris"][0]["extract"], true);
        assert_eq!(out["environment"]["variables"][0]["type"], "VALUE");
        assert_eq!(serde_json::from_value::<CommandInfo>(out).unwrap(), c);
        assert_eq!(
            CommandInfo::argv(["/bin/true"]).value.as_deref(),
            Some("/bin/true")
        );
    }
}
