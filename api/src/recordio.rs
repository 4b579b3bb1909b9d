//! RecordIO framing of Mesos' streaming endpoints: each record is its length
//! in bytes as decimal ASCII, a newline, then the bytes
//! (`3rdparty/stout/include/stout/recordio.hpp`, `docs/recordio.md`).
//!
//! [`encode`] frames one record; [`Decoder`] takes the stream in chunks of
//! any size and yields the complete records. As stout's decoder does, a
//! zero length yields an empty record and the first error is final.

use std::mem;

/// Default cap on one record: 64 MiB, protobuf's own message limit.
pub const DEFAULT_MAX_RECORD_SIZE: usize = 64 * 1024 * 1024;

/// `u64::MAX` has 20 digits; a longer header is not a length.
const MAX_HEADER_LEN: usize = 20;

/// A stream that is not valid RecordIO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordIoError {
    /// The header before a newline is not a decimal length.
    #[error("record length '{header}' is not a decimal number")]
    InvalidLength {
        /// The header as read (lossy UTF-8, at most 20 bytes).
        header: String,
    },
    /// The header announces a record above the decoder's maximum.
    #[error("record of {length} bytes exceeds the maximum record size of {max} bytes")]
    TooLarge {
        /// The announced length.
        length: u64,
        /// The decoder's maximum.
        max: usize,
    },
    /// The stream ended inside a record or its header.
    #[error("stream ended inside a record: {received} of {expected} bytes received")]
    Truncated {
        /// Bytes the record needed (0 while in the header).
        expected: usize,
        /// Bytes received.
        received: usize,
    },
}

/// Frames `record` as `<length>\n<record>`.
pub fn encode(record: &[u8]) -> Vec<u8> {
    let header = record.len().to_string();
    let mut out = Vec::with_capacity(header.len() + 1 + record.len());
    out.extend_from_slice(header.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(record);
    out
}

#[derive(Debug)]
enum State {
    Header(Vec<u8>),
    Record { expected: usize, data: Vec<u8> },
    Failed(RecordIoError),
}

/// Incremental RecordIO decoder.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    max_record_size: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with [`DEFAULT_MAX_RECORD_SIZE`].
    pub fn new() -> Self {
        Decoder::with_max_record_size(DEFAULT_MAX_RECORD_SIZE)
    }

    /// A decoder refusing records above `max_record_size` bytes.
    pub fn with_max_record_size(max_record_size: usize) -> Self {
        Decoder {
            state: State::Header(Vec::new()),
            max_record_size,
        }
    }

    /// Feeds a chunk; returns the records it completed, in order. After an
    /// error every call returns that error again.
    pub fn decode(&mut self, mut chunk: &[u8]) -> Result<Vec<Vec<u8>>, RecordIoError> {
        let mut records = Vec::new();
        while !chunk.is_empty() {
            match &mut self.state {
                State::Failed(err) => return Err(err.clone()),
                State::Header(header) => match chunk.iter().position(|&b| b == b'\n') {
                    Some(newline) => {
                        header.extend_from_slice(&chunk[..newline]);
                        chunk = &chunk[newline + 1..];
                        let header = mem::take(header);
                        let expected = self.parse_header(&header)?;
                        if expected == 0 {
                            records.push(Vec::new());
                        } else {
                            self.state = State::Record {
                                expected,
                                data: Vec::new(),
                            };
                        }
                    }
                    None => {
                        header.extend_from_slice(chunk);
                        chunk = &[];
                        if header.len() > MAX_HEADER_LEN {
                            let header = mem::take(header);
                            return Err(self.fail(invalid_length(&header)));
                        }
                    }
                },
                State::Record { expected, data } => {
                    let take = (*expected - data.len()).min(chunk.len());
                    if data.is_empty() {
                        data.reserve_exact(*expected);
                    }
                    data.extend_from_slice(&chunk[..take]);
                    chunk = &chunk[take..];
                    if data.len() == *expected {
                        records.push(mem::take(data));
                        self.state = State::Header(Vec::new());
                    }
                }
            }
        }
        match &self.state {
            State::Failed(err) => Err(err.clone()),
            _ => Ok(records),
        }
    }

    /// Checks that the stream ended between records (call at end of input).
    pub fn finish(&self) -> Result<(), RecordIoError> {
        match &self.state {
            State::Failed(err) => Err(err.clone()),
            State::Header(header) if header.is_empty() => Ok(()),
            State::Header(header) => Err(RecordIoError::Truncated {
                expected: 0,
                received: header.len(),
            }),
            State::Record { expected, data } => Err(RecordIoError::Truncated {
                expected: *expected,
                received: data.len(),
            }),
        }
    }

    fn parse_header(&mut self, header: &[u8]) -> Result<usize, RecordIoError> {
        let digits = header.len() <= MAX_HEADER_LEN
            && !header.is_empty()
            && header.iter().all(u8::is_ascii_digit);
        let length = std::str::from_utf8(header)
            .ok()
            .filter(|_| digits)
            .and_then(|s| s.parse::<u64>().ok());
        let Some(length) = length else {
            return Err(self.fail(invalid_length(header)));
        };
        match usize::try_from(length) {
            Ok(n) if n <= self.max_record_size => Ok(n),
            _ => Err(self.fail(RecordIoError::TooLarge {
                length,
                max: self.max_record_size,
            })),
        }
    }

    fn fail(&mut self, err: RecordIoError) -> RecordIoError {
        self.state = State::Failed(err.clone());
        err
    }
}

fn invalid_length(header: &[u8]) -> RecordIoError {
    let shown = &header[..header.len().min(MAX_HEADER_LEN)];
    RecordIoError::InvalidLength {
        header: String::from_utf8_lossy(shown).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_length_newline_bytes() {
        assert_eq!(encode(b"hello"), b"5\nhello");
        assert_eq!(encode(b""), b"0\n");
        let heartbeat = br#"{"type":"HEARTBEAT"}"#;
        assert_eq!(encode(heartbeat), [&b"20\n"[..], heartbeat].concat());
    }

    #[test]
    fn several_records_in_one_chunk() {
        let stream = [
            encode(b"hello"),
            encode(b"world!"),
            encode(b""),
            encode(b"x"),
        ]
        .concat();
        let mut d = Decoder::new();
        let records = d.decode(&stream).unwrap();
        assert_eq!(
            records,
            vec![b"hello".to_vec(), b"world!".to_vec(), vec![], b"x".to_vec()]
        );
        assert_eq!(d.finish(), Ok(()));
    }

    #[test]
    fn a_record_split_across_many_chunks() {
        let record: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let stream = [encode(&record), encode(b"tail")].concat();
        for chunk_size in [1, 2, 3, 7, 64, 999, 1003] {
            let mut d = Decoder::new();
            let mut got = Vec::new();
            for chunk in stream.chunks(chunk_size) {
                got.extend(d.decode(chunk).unwrap());
            }
            assert_eq!(
                got,
                vec![record.clone(), b"tail".to_vec()],
                "chunk size {chunk_size}"
            );
            assert_eq!(d.finish(), Ok(()));
        }
    }

    #[test]
    fn non_numeric_length_fails_for_good() {
        let mut d = Decoder::new();
        let err = d.decode(b"12x\nabc").unwrap_err();
        assert_eq!(
            err,
            RecordIoError::InvalidLength {
                header: "12x".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "record length '12x' is not a decimal number"
        );
        assert_eq!(d.decode(b"3\nabc"), Err(err.clone()));
        assert_eq!(d.finish(), Err(err));
        for bad in [&b"\n"[..], b"-1\n", b"+1\n", b" 1\n", b"1\r\n"] {
            assert!(Decoder::new().decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn overlong_header_without_newline_fails() {
        let mut d = Decoder::new();
        assert_eq!(d.decode(b"1234567890").unwrap(), Vec::<Vec<u8>>::new());
        let err = d.decode(b"12345678901").unwrap_err();
        assert!(
            matches!(err, RecordIoError::InvalidLength { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn oversized_record_fails() {
        let mut d = Decoder::with_max_record_size(4);
        assert_eq!(d.decode(&encode(b"1234")).unwrap(), vec![b"1234".to_vec()]);
        let err = d.decode(b"5\n12345").unwrap_err();
        assert_eq!(err, RecordIoError::TooLarge { length: 5, max: 4 });
        assert_eq!(
            err.to_string(),
            "record of 5 bytes exceeds the maximum record size of 4 bytes"
        );
        let max = Decoder::new()
            .decode(b"18446744073709551615\n")
            .unwrap_err();
        assert_eq!(
            max,
            RecordIoError::TooLarge {
                length: u64::MAX,
                max: DEFAULT_MAX_RECORD_SIZE
            }
        );
        let beyond_u64 = Decoder::new()
            .decode(b"18446744073709551616\n")
            .unwrap_err();
        assert!(
            matches!(beyond_u64, RecordIoError::InvalidLength { .. }),
            "{beyond_u64:?}"
        );
    }

    #[test]
    fn truncated_stream_is_reported_by_finish() {
        let mut d = Decoder::new();
        assert!(d.decode(b"10\nabc").unwrap().is_empty());
        assert_eq!(
            d.finish(),
            Err(RecordIoError::Truncated {
                expected: 10,
                received: 3
            })
        );
        let mut d = Decoder::new();
        d.decode(b"1").unwrap();
        assert_eq!(
            d.finish(),
            Err(RecordIoError::Truncated {
                expected: 0,
                received: 1
            })
        );
    }
}
