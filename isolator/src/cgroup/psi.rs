//! Pressure stall information: the cpu.pressure, memory.pressure and
//! io.pressure files of a cgroup (`some`/`full` lines with avg10, avg60,
//! avg300 percentages and a total in microseconds), and their parser.

use super::parse::ParseError;
use serde::Serialize;

/// PSI of one cgroup; a file is `None` when the kernel has PSI off
/// (`psi=0`) or predates it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PsiStats {
    /// cpu.pressure.
    pub cpu: Option<Pressure>,
    /// memory.pressure.
    pub memory: Option<Pressure>,
    /// io.pressure.
    pub io: Option<Pressure>,
}

/// One PSI file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pressure {
    /// Some task was stalled on the resource.
    pub some: PressureLine,
    /// All non-idle tasks were stalled at once (`None` for cpu before 5.13).
    pub full: Option<PressureLine>,
}

/// One line of a PSI file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PressureLine {
    /// Percentage of the last 10 s stalled.
    pub avg10: f64,
    /// Percentage of the last 60 s stalled.
    pub avg60: f64,
    /// Percentage of the last 300 s stalled.
    pub avg300: f64,
    /// Total stall time, microseconds.
    pub total: u64,
}

/// Parses a PSI file; `some` is required, `full` optional.
pub fn parse(text: &str) -> Result<Pressure, ParseError> {
    let mut some = None;
    let mut full = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let parsed = parse_line(rest).map_err(|e| ParseError(format!("line {line:?}: {e}")))?;
        match kind {
            "some" => some = Some(parsed),
            "full" => full = Some(parsed),
            _ => {
                return Err(ParseError(format!(
                    "line {line:?} is neither \"some\" nor \"full\""
                )));
            }
        }
    }
    let some = some.ok_or_else(|| ParseError(format!("no \"some\" line in {text:?}")))?;
    Ok(Pressure { some, full })
}

fn parse_line(rest: &str) -> Result<PressureLine, String> {
    let mut line = PressureLine::default();
    let mut seen = 0;
    for word in rest.split_whitespace() {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| format!("{word:?} is not KEY=VALUE"))?;
        let bad = || format!("{key}={value:?} is not a number");
        match key {
            "avg10" => line.avg10 = value.parse().map_err(|_| bad())?,
            "avg60" => line.avg60 = value.parse().map_err(|_| bad())?,
            "avg300" => line.avg300 = value.parse().map_err(|_| bad())?,
            "total" => line.total = value.parse().map_err(|_| bad())?,
            _ => continue,
        }
        seen += 1;
    }
    if seen != 4 {
        return Err("expected avg10, avg60, avg300 and total".into());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn some_and_full() {
        let p = parse(
            "some avg10=1.50 avg60=0.25 avg300=0.05 total=123456\n\
             full avg10=0.00 avg60=0.10 avg300=0.00 total=789\n",
        )
        .unwrap();
        assert_eq!(p.some.avg10, 1.5);
        assert_eq!(p.some.avg60, 0.25);
        assert_eq!(p.some.avg300, 0.05);
        assert_eq!(p.some.total, 123_456);
        assert_eq!(p.full.unwrap().total, 789);
    }

    #[test]
    fn cpu_before_5_13_has_no_full_line() {
        let p = parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").unwrap();
        assert_eq!(p.full, None);
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(parse("").is_err());
        assert!(parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").is_err());
        assert!(parse("some avg10=x avg60=0.00 avg300=0.00 total=0\n").is_err());
        assert!(parse("some avg10=0.00 total=0\n").is_err());
        assert!(parse("most avg10=0.00 avg60=0.00 avg300=0.00 total=0\n").is_err());
    }
}
