//! Mesos' resource text format, for operators, tests and benchmarks:
//! `cpus:2;mem:1024;disk:4096;ports:[31000-32000]`, a reservation as
//! `cpus(eng/ml):4`, quantities as `cpus:1;mem:512`.

use super::{Pool, PortRanges, Quantities, Resources, to_milli};
use crate::allocator::error::ResourceError;
use crate::allocator::role::RoleName;

impl Resources {
    /// Parses `name[(role)]:value` items separated by `;`; the value is a
    /// number, or `[a-b,c-d]` for `ports`. `(*)` means unreserved.
    pub fn parse(text: &str) -> Result<Resources, ResourceError> {
        let mut out = Resources::new();
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            let (head, value) = item
                .split_once(':')
                .ok_or_else(|| err(item, "expected name:value"))?;
            let (name, role) = split_role(item, head.trim())?;
            let mut pool = Pool::default();
            if name == "ports" {
                pool.ports = parse_ranges(item, value.trim())?;
            } else {
                pool.scalars
                    .add_milli(name, parse_scalar(item, value.trim())?);
            }
            match role {
                None => out.add_unreserved(&pool),
                Some(role) => out.add_reserved(&role, &pool),
            }
        }
        Ok(out)
    }
}

impl Quantities {
    /// Parses `name:value` scalar items separated by `;` (no reservations,
    /// no ranges).
    pub fn parse(text: &str) -> Result<Quantities, ResourceError> {
        let resources = Resources::parse(text)?;
        if resources.has_reservations() || !resources.unreserved().ports.is_empty() {
            return Err(err(text, "quantities are unreserved scalars only"));
        }
        Ok(resources.unreserved().scalars.clone())
    }
}

fn err(item: &str, reason: &'static str) -> ResourceError {
    ResourceError {
        item: item.to_owned(),
        reason,
    }
}

fn split_role<'a>(item: &str, head: &'a str) -> Result<(&'a str, Option<RoleName>), ResourceError> {
    let (name, role) = match head.split_once('(') {
        None => (head, None),
        Some((name, rest)) => {
            let role = rest
                .strip_suffix(')')
                .ok_or_else(|| err(item, "unclosed `(role)`"))?;
            (name.trim(), Some(role.trim()))
        }
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        return Err(err(
            item,
            "a resource name is ASCII letters, digits, `_`, `-` or `.`",
        ));
    }
    match role {
        None | Some("*") => Ok((name, None)),
        Some(role) => {
            let role = RoleName::new(role).map_err(|_| err(item, "invalid reservation role"))?;
            Ok((name, Some(role)))
        }
    }
}

fn parse_scalar(item: &str, value: &str) -> Result<u64, ResourceError> {
    let v: f64 = value.parse().map_err(|_| err(item, "expected a number"))?;
    to_milli(v).ok_or_else(|| err(item, "a scalar must be finite and not negative"))
}

fn parse_ranges(item: &str, value: &str) -> Result<PortRanges, ResourceError> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| err(item, "expected ports as [begin-end,...]"))?;
    let mut ports = PortRanges::new();
    for range in inner.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let (b, e) = range.split_once('-').unwrap_or((range, range));
        let b: u16 = b
            .trim()
            .parse()
            .map_err(|_| err(item, "a port is an integer 0-65535"))?;
        let e: u16 = e
            .trim()
            .parse()
            .map_err(|_| err(item, "a port is an integer 0-65535"))?;
        if b > e {
            return Err(err(item, "a port range must not end before it begins"));
        }
        ports.insert(b, e);
    }
    Ok(ports)
}
