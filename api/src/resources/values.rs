//! Mesos' text syntax for one value (`src/v1/values.cpp`, `parse`):
//! `2.5` is a scalar, `[31000-32000,33000-34000]` ranges, `{a,b}` a set,
//! anything else text. Spaces are ignored everywhere.

use crate::v1::{Ranges, Value};

/// A value text that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Nothing but spaces.
    #[error("expected a non-empty value")]
    Empty,
    /// Unbalanced `[]`, `{}` or `()`.
    #[error("mismatched brackets")]
    MismatchedBrackets,
    /// `[` or `{` somewhere other than the start.
    #[error("unexpected '{0}' found")]
    Unexpected(char),
    /// A range without an end.
    #[error("expected ranges of the form [begin-end, ...]")]
    OddRanges,
    /// A range bound that is not an unsigned integer.
    #[error("expected a non-negative integer range bound, got '{0}'")]
    BadBound(String),
    /// `begin > end`.
    #[error("range {begin}-{end} ends before it begins")]
    InvertedRange {
        /// First bound.
        begin: u64,
        /// Second bound.
        end: u64,
    },
    /// A subnormal scalar, which Mesos refuses.
    #[error("subnormal scalar values are not supported")]
    Subnormal,
}

/// stout's `strings::tokenize`: split on any of `delims`, drop empty pieces.
pub(crate) fn tokenize<'a>(text: &'a str, delims: &[char]) -> Vec<&'a str> {
    text.split(|c| delims.contains(&c))
        .filter(|t| !t.is_empty())
        .collect()
}

fn brackets_match(text: &str, open: char, close: char) -> bool {
    let mut depth = 0i64;
    for c in text.chars() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Parses one value (see the module doc). Negative, infinite and NaN numbers
/// are text, as in Mesos.
pub fn parse_value(text: &str) -> Result<Value, ValueError> {
    let text: String = text.chars().filter(|&c| c != ' ').collect();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    if ![('{', '}'), ('[', ']'), ('(', ')')]
        .iter()
        .all(|&(o, c)| brackets_match(&text, o, c))
    {
        return Err(ValueError::MismatchedBrackets);
    }
    match (text.find('['), text.find('{')) {
        (Some(0), _) => parse_ranges(&text),
        (Some(_), _) => Err(ValueError::Unexpected('[')),
        (None, Some(0)) => {
            let items = tokenize(&text, &['{', '}', ',', '\n']);
            Ok(Value::set(items))
        }
        (None, Some(_)) => Err(ValueError::Unexpected('{')),
        (None, None) => parse_scalar_or_text(&text),
    }
}

fn parse_ranges(text: &str) -> Result<Value, ValueError> {
    let tokens = tokenize(text, &['[', ']', '-', ',', '\n']);
    if !tokens.len().is_multiple_of(2) {
        return Err(ValueError::OddRanges);
    }
    let bound = |t: &str| {
        if t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse::<u64>()
                .map_err(|_| ValueError::BadBound(t.to_owned()))
        } else {
            Err(ValueError::BadBound(t.to_owned()))
        }
    };
    let mut pairs = Vec::with_capacity(tokens.len() / 2);
    for pair in tokens.chunks(2) {
        let (begin, end) = (bound(pair[0])?, bound(pair[1])?);
        if begin > end {
            return Err(ValueError::InvertedRange { begin, end });
        }
        pairs.push((begin, end));
    }
    let mut ranges = Ranges::new(pairs);
    ranges.coalesce();
    Ok(Value::ranges(ranges))
}

fn parse_scalar_or_text(text: &str) -> Result<Value, ValueError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_subnormal() => Err(ValueError::Subnormal),
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Value::scalar(v)),
        _ => Ok(Value::text(text)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_ranges_sets_and_text() {
        assert_eq!(parse_value("2"), Ok(Value::scalar(2.0)));
        assert_eq!(parse_value(" 0.5 "), Ok(Value::scalar(0.5)));
        assert_eq!(parse_value("1e3"), Ok(Value::scalar(1000.0)));
        assert_eq!(
            parse_value("[31000-32000, 1-5,6-10]"),
            Ok(Value::ranges(Ranges::new([(1, 10), (31000, 32000)])))
        );
        assert_eq!(parse_value("{a, b,c}"), Ok(Value::set(["a", "b", "c"])));
        assert_eq!(parse_value("ubuntu"), Ok(Value::text("ubuntu")));
        assert_eq!(parse_value("-1"), Ok(Value::text("-1")));
        assert_eq!(parse_value("inf"), Ok(Value::text("inf")));
    }

    #[test]
    fn malformed_values() {
        assert_eq!(parse_value("  "), Err(ValueError::Empty));
        assert_eq!(parse_value("[1-2"), Err(ValueError::MismatchedBrackets));
        assert_eq!(parse_value("}{"), Err(ValueError::MismatchedBrackets));
        assert_eq!(parse_value("x[1-2]"), Err(ValueError::Unexpected('[')));
        assert_eq!(parse_value("x{a}"), Err(ValueError::Unexpected('{')));
        assert_eq!(parse_value("[1-2,3]"), Err(ValueError::OddRanges));
        assert_eq!(parse_value("[a-b]"), Err(ValueError::BadBound("a".into())));
        assert_eq!(
            parse_value("[5-3]"),
            Err(ValueError::InvertedRange { begin: 5, end: 3 })
        );
        assert_eq!(parse_value("1e-310"), Err(ValueError::Subnormal));
    }
}
