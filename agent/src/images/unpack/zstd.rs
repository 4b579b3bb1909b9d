//! zstd-compressed layers (`tar+zstd`), decoded in pure Rust (ruzstd): a
//! blob may hold several frames one after another (zstd:chunked images
//! do) and skippable frames, which are passed over, as `zstd -d` does.
//! The frames' own checksums are not needed: the blob's digest and the
//! tar stream's diff_id are checked by the caller.

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{self, Read};

/// The decompressed stream of every frame of `R`.
pub struct Frames<R: Read> {
    src: Peek<R>,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: Read> Frames<R> {
    pub fn new(src: R) -> Frames<R> {
        Frames {
            src: Peek {
                inner: src,
                byte: None,
            },
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }
}

fn corrupt(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: Read> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                if self.decoder.can_collect() > 0 {
                    return self.decoder.read(buf);
                }
                if self.decoder.is_finished() {
                    self.in_frame = false;
                    continue;
                }
                self.decoder
                    .decode_blocks(&mut self.src, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(corrupt)?;
                continue;
            }
            if self.src.at_end()? {
                return Ok(0);
            }
            match self.decoder.reset(&mut self.src) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped =
                        io::copy(&mut (&mut self.src).take(length.into()), &mut io::sink())?;
                    if skipped != u64::from(length) {
                        return Err(corrupt("a skippable frame is cut short"));
                    }
                }
                Err(e) => return Err(corrupt(e)),
            }
        }
    }
}

/// A reader that can tell whether it is at its end without losing a byte.
struct Peek<R> {
    inner: R,
    byte: Option<u8>,
}

impl<R: Read> Peek<R> {
    fn at_end(&mut self) -> io::Result<bool> {
        if self.byte.is_some() {
            return Ok(false);
        }
        let mut one = [0u8];
        loop {
            match self.inner.read(&mut one) {
                Ok(0) => return Ok(true),
                Ok(_) => {
                    self.byte = Some(one[0]);
                    return Ok(false);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for Peek<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.byte.take(), buf.is_empty()) {
            (Some(b), false) => {
                buf[0] = b;
                Ok(1)
            }
            (b, _) => {
                self.byte = b;
                self.inner.read(buf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};

    fn decode(blob: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Frames::new(blob).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn frames_one_after_another_and_skippable_ones_decode_as_one_stream() {
        let a: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let b = b"second frame".to_vec();
        let mut blob = compress_to_vec(&a[..], CompressionLevel::Fastest);
        // A skippable frame: magic 0x184D2A5?, length, payload.
        blob.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        blob.extend_from_slice(&5u32.to_le_bytes());
        blob.extend_from_slice(b"skip!");
        blob.extend(compress_to_vec(&b[..], CompressionLevel::Fastest));
        let out = decode(&blob).unwrap();
        assert_eq!(out.len(), a.len() + b.len());
        assert_eq!(&out[..a.len()], &a[..]);
        assert_eq!(&out[a.len()..], &b[..]);
        assert_eq!(decode(&[]).unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn garbage_and_cut_frames_are_errors() {
        let err = decode(b"not zstd at all").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
        let blob = compress_to_vec(&[7u8; 100_000][..], CompressionLevel::Fastest);
        let err = decode(&blob[..blob.len() / 2]).unwrap_err();
        assert!(err.to_string().contains("zstd"), "{err}");
        let mut skip = 0x184D_2A50u32.to_le_bytes().to_vec();
        skip.extend_from_slice(&100u32.to_le_bytes());
        skip.extend_from_slice(b"short");
        let err = decode(&skip).unwrap_err();
        assert!(err.to_string().contains("cut short"), "{err}");
    }
}
