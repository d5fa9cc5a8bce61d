//! Response bodies as they go on the wire: at once, dripping, endless-looking, or a bomb.
//!
//! A crawler's body limits and timeouts are only tested if the bytes really arrive the way hostile
//! servers send them. Huge bodies are streamed from one static block of filler, so tens of
//! megabytes cost no memory; gzip bombs are built once per size and shared, because a 1 GiB bomb
//! is about 1 MiB compressed and every request for it can send the same bytes.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

/// Filler for huge bodies: JSON whitespace, sent a block at a time.
static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// A response body the transport streams.
#[derive(Debug)]
pub(crate) enum StreamBody {
    /// Sent in one frame (also used for gzip bombs, whose bytes are shared).
    Full(Option<Bytes>),
    /// `rest` sent `chunk` bytes at a time, waiting `every` before each chunk after the first.
    Drip {
        rest: Bytes,
        chunk: usize,
        every: Duration,
        wait: Option<Pin<Box<Sleep>>>,
    },
    /// `[`, whitespace, `]`: `len` bytes in all.
    Huge { sent: u64, len: u64 },
    /// `chunk` forever, waiting `every` before each chunk after the first (none when zero).
    Endless {
        chunk: Bytes,
        every: Duration,
        wait: Option<Pin<Box<Sleep>>>,
    },
}

impl StreamBody {
    pub(crate) fn full(bytes: Bytes) -> StreamBody {
        StreamBody::Full(Some(bytes))
    }

    pub(crate) fn empty() -> StreamBody {
        StreamBody::Full(None)
    }

    pub(crate) fn drip(body: Bytes, chunk: usize, every: Duration) -> StreamBody {
        StreamBody::Drip {
            rest: body,
            chunk: chunk.max(1),
            every,
            wait: None,
        }
    }

    pub(crate) fn huge(len: u64) -> StreamBody {
        StreamBody::Huge { sent: 0, len }
    }

    pub(crate) fn endless(chunk: Bytes, every: Duration) -> StreamBody {
        let chunk = if chunk.is_empty() {
            Bytes::from_static(b" ")
        } else {
            chunk
        };
        StreamBody::Endless {
            chunk,
            every,
            wait: None,
        }
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut *self {
            StreamBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            StreamBody::Drip {
                rest,
                chunk,
                every,
                wait,
            } => {
                if rest.is_empty() {
                    return Poll::Ready(None);
                }
                if let Some(sleep) = wait {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let n = (*chunk).min(rest.len());
                let piece = rest.split_to(n);
                *wait = Some(Box::pin(tokio::time::sleep(*every)));
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            StreamBody::Huge { sent, len } => {
                if *sent >= *len {
                    return Poll::Ready(None);
                }
                let piece = if *sent == 0 && *len >= 2 {
                    Bytes::from_static(b"[")
                } else if *sent + 1 == *len && *len >= 2 {
                    Bytes::from_static(b"]")
                } else {
                    // Stop one byte short of the end so the closing bracket goes alone.
                    let room = if *len >= 2 {
                        *len - 1 - *sent
                    } else {
                        *len - *sent
                    };
                    let n = room.min(SPACES.len() as u64) as usize;
                    Bytes::from_static(&SPACES[..n])
                };
                *sent += piece.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            StreamBody::Endless { chunk, every, wait } => {
                if let Some(sleep) = wait {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                if !every.is_zero() {
                    *wait = Some(Box::pin(tokio::time::sleep(*every)));
                }
                Poll::Ready(Some(Ok(Frame::data(chunk.clone()))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            StreamBody::Full(bytes) => bytes.as_ref().is_none_or(|b| b.is_empty()),
            StreamBody::Drip { rest, .. } => rest.is_empty(),
            StreamBody::Huge { sent, len } => sent >= len,
            StreamBody::Endless { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            StreamBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            StreamBody::Drip { rest, .. } => SizeHint::with_exact(rest.len() as u64),
            StreamBody::Huge { sent, len } => SizeHint::with_exact(len - sent),
            StreamBody::Endless { .. } => SizeHint::new(),
        }
    }
}

/// The gzip bytes that inflate to `inflated` zero bytes, built on first use and shared after.
pub(crate) fn gzip_bomb(inflated: u64) -> Bytes {
    static BOMBS: OnceLock<Mutex<HashMap<u64, Bytes>>> = OnceLock::new();
    let bombs = BOMBS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut bombs = bombs.lock().unwrap_or_else(|e| e.into_inner());
    bombs
        .entry(inflated)
        .or_insert_with(|| build_gzip_bomb(inflated))
        .clone()
}

/// Zeros per repeated deflate block.
const BLOCK: usize = 1 << 20;

/// Builds a single-member gzip stream of `inflated` zero bytes without compressing them all:
/// one block of zeros is compressed with a full flush (which resets the compressor, so the bytes
/// do not depend on what came before), repeated, and closed with an empty final block. A single
/// member matters: decoders that stop after the first member would otherwise miss the bomb.
fn build_gzip_bomb(inflated: u64) -> Bytes {
    let zeros = vec![0u8; BLOCK];
    let block = deflate_flushed(&zeros);
    let tail_len = (inflated % BLOCK as u64) as usize;
    let tail = if tail_len > 0 {
        deflate_flushed(&zeros[..tail_len])
    } else {
        Vec::new()
    };
    let blocks = inflated / BLOCK as u64;
    let mut crc = flate2::Crc::new();
    let mut block_crc = flate2::Crc::new();
    block_crc.update(&zeros);
    for _ in 0..blocks {
        crc.combine(&block_crc);
    }
    crc.update(&zeros[..tail_len]);

    let mut out = Vec::with_capacity(18 + blocks as usize * block.len() + tail.len() + 2);
    // Header: magic, deflate, no flags, no mtime, no extra flags, unknown OS.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    for _ in 0..blocks {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&tail);
    // An empty final block with fixed Huffman codes: BFINAL=1, BTYPE=01, end-of-block.
    out.extend_from_slice(&[0x03, 0x00]);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(inflated as u32).to_le_bytes());
    Bytes::from(out)
}

/// `data` as raw deflate blocks ending in a full flush (byte-aligned, not final).
fn deflate_flushed(data: &[u8]) -> Vec<u8> {
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 500 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        if out.len() == out.capacity() {
            out.reserve(4096);
        }
        compress
            .compress_vec(&data[consumed..], &mut out, flate2::FlushCompress::Full)
            .expect("deflating into a growing buffer cannot fail");
        // The flush is complete once all input is in and the output did not fill up.
        if compress.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_bomb_inflates_to_exactly_the_size_asked() {
        for inflated in [0u64, 1, 5000, (BLOCK as u64) * 3 + 12_345] {
            let bomb = build_gzip_bomb(inflated);
            let mut decoder = flate2::read::GzDecoder::new(&bomb[..]);
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            loop {
                let n = decoder.read(&mut buf).expect("the bomb is valid gzip");
                if n == 0 {
                    break;
                }
                assert!(buf[..n].iter().all(|&b| b == 0));
                total += n as u64;
            }
            assert_eq!(total, inflated);
        }
    }

    #[test]
    fn a_gibibyte_bomb_is_about_a_mebibyte() {
        let bomb = gzip_bomb(1 << 30);
        assert!(bomb.len() < 1_200_000, "{} bytes", bomb.len());
        assert!(bomb.len() > 500_000, "{} bytes", bomb.len());
    }
}
