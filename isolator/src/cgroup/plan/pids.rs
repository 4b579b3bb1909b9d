//! The pids controller: `limit` → pids.max, any limit ≤ 0 meaning no limit.

use super::{Plan, Write};
use oci_spec::runtime::LinuxPids;

/// Adds the pids.max write of `pids` to `p`.
pub(super) fn plan(pids: &LinuxPids, p: &mut Plan) {
    let value = match pids.limit() {
        l if l > 0 => l.to_string(),
        _ => "max".to_string(),
    };
    p.push(Write::new("pids.max", value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxPidsBuilder;

    fn value(limit: i64) -> String {
        let mut p = Plan::default();
        plan(
            &LinuxPidsBuilder::default().limit(limit).build().unwrap(),
            &mut p,
        );
        p.writes[0].value.clone()
    }

    #[test]
    fn positive_limits_are_written_and_the_rest_is_max() {
        assert_eq!(value(64), "64");
        assert_eq!(value(0), "max");
        assert_eq!(value(-1), "max");
    }
}
