//! A connection to systemd's manager over D-Bus (zbus, blocking), and the
//! three calls the driver makes: StartTransientUnit, SetUnitProperties and
//! StopUnit.
//!
//! As root it talks peer-to-peer on systemd's private socket
//! `/run/systemd/private`, which needs no dbus-daemon; method calls there
//! carry NO destination (there is no bus to route them, and a call naming
//! one waits for a reply that never comes). Otherwise it uses the system bus
//! (`/run/dbus/system_bus_socket`) with destination `org.freedesktop.systemd1`.

use super::props::Prop;
use std::path::Path;
use zbus::blocking::Connection;
use zbus::zvariant::Value;

/// systemd's private socket (root only).
pub const PRIVATE_SOCKET: &str = "/run/systemd/private";
/// The system bus socket.
pub const SYSTEM_BUS_SOCKET: &str = "/run/dbus/system_bus_socket";

const DESTINATION: &str = "org.freedesktop.systemd1";
const PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// What went wrong talking to systemd.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// systemd is not running as the service manager here.
    #[error(
        "systemd is not the service manager here (neither {PRIVATE_SOCKET} nor \
         {SYSTEM_BUS_SOCKET} exists): the systemd cgroup driver needs a host booted with \
         systemd as PID 1"
    )]
    NoSystemd,
    /// Connecting failed.
    #[error("connecting to systemd at {socket}: {source}")]
    Connect {
        /// The socket tried.
        socket: &'static str,
        /// zbus's answer.
        source: Box<zbus::Error>,
    },
    /// A method call failed.
    #[error("systemd {method}({unit}): {source}")]
    Call {
        /// The method.
        method: &'static str,
        /// The unit it was about.
        unit: String,
        /// systemd's or zbus's answer.
        source: Box<zbus::Error>,
    },
}

/// A connection to the manager.
#[derive(Debug)]
pub struct Manager {
    conn: Connection,
    destination: Option<&'static str>,
}

impl Manager {
    /// Connects: the private socket when root and present, else the system bus.
    pub fn connect() -> Result<Manager, BusError> {
        // SAFETY: geteuid cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        if root && Path::new(PRIVATE_SOCKET).exists() {
            let connect = || -> zbus::Result<Connection> {
                let stream = std::os::unix::net::UnixStream::connect(PRIVATE_SOCKET)
                    .map_err(|e| zbus::Error::InputOutput(e.into()))?;
                zbus::blocking::connection::Builder::async_io_unix_stream(stream)
                    .p2p()
                    .build()
            };
            let conn = connect().map_err(|e| BusError::Connect {
                socket: PRIVATE_SOCKET,
                source: Box::new(e),
            })?;
            return Ok(Manager {
                conn,
                destination: None,
            });
        }
        if !Path::new(SYSTEM_BUS_SOCKET).exists() {
            return Err(BusError::NoSystemd);
        }
        let conn = Connection::system().map_err(|e| BusError::Connect {
            socket: SYSTEM_BUS_SOCKET,
            source: Box::new(e),
        })?;
        Ok(Manager {
            conn,
            destination: Some(DESTINATION),
        })
    }

    /// StartTransientUnit(unit, "fail", properties), returning once the
    /// job is queued (the caller waits for the scope's cgroup).
    pub fn start_transient_unit(
        &self,
        unit: &str,
        properties: &[(String, Prop)],
    ) -> Result<(), BusError> {
        let props = values(properties);
        let aux: Vec<(&str, Vec<(&str, Value)>)> = Vec::new();
        self.call("StartTransientUnit", unit, &(unit, "fail", props, aux))
    }

    /// SetUnitProperties(unit, runtime = true, properties): a live change
    /// that lasts until the unit goes.
    pub fn set_unit_properties(
        &self,
        unit: &str,
        properties: &[(String, Prop)],
    ) -> Result<(), BusError> {
        self.call("SetUnitProperties", unit, &(unit, true, values(properties)))
    }

    /// StopUnit(unit, "replace"); a unit systemd no longer has is fine.
    pub fn stop_unit(&self, unit: &str) -> Result<(), BusError> {
        match self.call("StopUnit", unit, &(unit, "replace")) {
            Err(BusError::Call { source, .. })
                if matches!(&*source, zbus::Error::MethodError(name, _, _)
                    if name.as_str() == "org.freedesktop.systemd1.NoSuchUnit") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn call<B>(&self, method: &'static str, unit: &str, body: &B) -> Result<(), BusError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
    {
        self.conn
            .call_method(self.destination, PATH, Some(MANAGER), method, body)
            .map(drop)
            .map_err(|e| BusError::Call {
                method,
                unit: unit.to_string(),
                source: Box::new(e),
            })
    }
}

/// Properties as D-Bus `a(sv)`.
fn values(properties: &[(String, Prop)]) -> Vec<(&str, Value<'_>)> {
    properties
        .iter()
        .map(|(name, p)| {
            let v = match p {
                Prop::U64(n) => Value::U64(*n),
                Prop::Bool(b) => Value::Bool(*b),
                Prop::Str(s) => Value::from(s.as_str()),
                Prop::Bytes(b) => Value::from(b.clone()),
                Prop::Pids(p) => Value::from(p.clone()),
            };
            (name.as_str(), v)
        })
        .collect()
}
