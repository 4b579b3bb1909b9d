//! The hugetlb controller: each `hugepageLimits` entry → hugetlb.<size>.max,
//! and hugetlb.<size>.rsvd.max where the kernel has reservation accounting
//! (5.7+), as runc does, so a limit also bounds mmap-time reservations.

use super::{OnMissing, Plan, Write, invalid};
use crate::cgroup::error::CgroupError;
use oci_spec::runtime::LinuxHugepageLimit;

/// Adds the hugetlb writes of `limits` to `p`.
pub(super) fn plan(limits: &[LinuxHugepageLimit], p: &mut Plan) -> Result<(), CgroupError> {
    for l in limits {
        let size = l.page_size();
        if !valid_page_size(size) {
            return Err(invalid(
                "hugepageLimits.pageSize",
                format!("{size:?}"),
                "give the size as the kernel names it: digits then KB, MB or GB, e.g. \"2MB\" \
                 or \"1GB\" (see /sys/kernel/mm/hugepages)",
            ));
        }
        let value = match l.limit() {
            -1 => "max".to_string(),
            v if v >= 0 => v.to_string(),
            v => {
                return Err(invalid(
                    &format!("hugepageLimits[{size}].limit"),
                    v,
                    "give bytes, or -1 for no limit",
                ));
            }
        };
        p.push(Write::new(format!("hugetlb.{size}.max"), value.clone()));
        p.push(Write::new(format!("hugetlb.{size}.rsvd.max"), value).on_missing(OnMissing::Skip));
    }
    Ok(())
}

/// "2MB", "1GB", "64KB": digits, then a unit.
fn valid_page_size(size: &str) -> bool {
    let digits = size.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &size[digits.len()..];
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && matches!(unit, "KB" | "MB" | "GB")
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxHugepageLimitBuilder;

    fn planned(size: &str, limit: i64) -> Result<Plan, CgroupError> {
        let l = LinuxHugepageLimitBuilder::default()
            .page_size(size)
            .limit(limit)
            .build()
            .unwrap();
        let mut p = Plan::default();
        plan(&[l], &mut p).map(|()| p)
    }

    #[test]
    fn limit_and_reservation_limit() {
        let p = planned("2MB", 4 << 21).unwrap();
        assert_eq!(
            p.writes,
            vec![
                Write::new("hugetlb.2MB.max", "8388608"),
                Write::new("hugetlb.2MB.rsvd.max", "8388608").on_missing(OnMissing::Skip),
            ]
        );
        assert_eq!(
            planned("1GB", -1).unwrap().value_of("hugetlb.1GB.max"),
            Some("max")
        );
        assert_eq!(
            planned("64KB", 0).unwrap().value_of("hugetlb.64KB.max"),
            Some("0")
        );
    }

    #[test]
    fn bad_page_sizes_are_errors() {
        for bad in ["2M", "MB", "2mb", "../2MB", "2 MB", ""] {
            let msg = planned(bad, 1).unwrap_err().to_string();
            assert!(msg.contains("hugepageLimits.pageSize"), "{bad}: {msg}");
        }
        assert!(planned("2MB", -3).is_err());
    }
}
