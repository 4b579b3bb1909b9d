//! Response body framing: `Content-Length`, `Transfer-Encoding: chunked`
//! (an incremental decoder) or until the connection closes.

use std::io;

use super::{Head, header};

/// How a response body is framed.
#[derive(Debug)]
pub enum Body {
    /// `Content-Length` bytes left.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
    /// Until the server closes the connection.
    UntilClose,
}

impl Body {
    /// The framing a response head announces (`no_body` for HEAD, 204, 304).
    pub fn of(head: &Head, no_body: bool) -> io::Result<Body> {
        let te = header(&head.headers, "transfer-encoding").unwrap_or_default();
        if no_body || head.status == 204 || head.status == 304 || (100..200).contains(&head.status)
        {
            Ok(Body::Length(0))
        } else if te.to_ascii_lowercase().contains("chunked") {
            Ok(Body::Chunked(ChunkedDecoder::default()))
        } else if let Some(len) = header(&head.headers, "content-length") {
            let len = len
                .parse()
                .map_err(|_| io::Error::other("bad Content-Length"))?;
            Ok(Body::Length(len))
        } else {
            Ok(Body::UntilClose)
        }
    }

    /// Decodes `input` into `out`; `Ok(true)` once the body is complete.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<bool> {
        match self {
            Body::Length(left) => {
                let take = input.len().min(*left);
                out.extend_from_slice(&input[..take]);
                *left -= take;
                Ok(*left == 0)
            }
            Body::Chunked(d) => d.feed(input, out).map_err(io::Error::other),
            Body::UntilClose => {
                out.extend_from_slice(input);
                Ok(false)
            }
        }
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        match self {
            Body::Length(left) => *left == 0,
            Body::Chunked(d) => d.is_done(),
            Body::UntilClose => false,
        }
    }
}

#[derive(Debug, Default)]
enum ChunkState {
    #[default]
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

/// Incremental `Transfer-Encoding: chunked` decoder: takes the bytes in
/// pieces of any size, resumable anywhere (in a size line, in data, in the
/// CRLF after data, in trailers).
#[derive(Debug, Default)]
pub struct ChunkedDecoder {
    state: ChunkState,
    line: Vec<u8>,
}

impl ChunkedDecoder {
    /// Decodes `input` into `out`; `Ok(true)` after the last chunk and its
    /// trailers. Bytes after the end are ignored.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<bool, String> {
        while !input.is_empty() && !self.is_done() {
            if let ChunkState::Data(left) = &mut self.state {
                let take = input.len().min(*left);
                out.extend_from_slice(&input[..take]);
                input = &input[take..];
                *left -= take;
                if *left == 0 {
                    self.state = ChunkState::DataEnd;
                }
                continue;
            }
            let Some(nl) = input.iter().position(|&b| b == b'\n') else {
                self.line.extend_from_slice(input);
                input = &[];
                if self.line.len() > 4096 {
                    return Err("chunk size or trailer line longer than 4096 bytes".into());
                }
                continue;
            };
            self.line.extend_from_slice(&input[..nl]);
            input = &input[nl + 1..];
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            self.state = match self.state {
                ChunkState::Size => {
                    let text = String::from_utf8_lossy(line);
                    let hex = text.split(';').next().unwrap_or_default().trim();
                    match usize::from_str_radix(hex, 16) {
                        Ok(0) => ChunkState::Trailer,
                        Ok(n) => ChunkState::Data(n),
                        Err(_) => return Err(format!("bad chunk size line '{text}'")),
                    }
                }
                ChunkState::DataEnd if line.is_empty() => ChunkState::Size,
                ChunkState::DataEnd => {
                    return Err("chunk data longer than its announced size".into());
                }
                ChunkState::Trailer if line.is_empty() => ChunkState::Done,
                ChunkState::Trailer => ChunkState::Trailer,
                ChunkState::Data(_) | ChunkState::Done => unreachable!("handled above"),
            };
        }
        Ok(self.is_done())
    }

    /// Whether the last chunk and its trailers were read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }
}
