//! Framing shared by the checkpoint and the journal: a file header (magic,
//! format version, generation) and length-prefixed records with a CRC-32,
//! so a torn write or a flipped bit is found before anything is decoded.

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{self, Read, Write};

/// Bumped whenever a saved type changes shape: older files are then skipped.
pub const FORMAT_VERSION: u32 = 1;
/// Magic, version, generation and a CRC of the two.
pub const HEADER_LEN: u64 = 8 + 4 + 8 + 4;
/// Length and CRC before each record.
const RECORD_OVERHEAD: u64 = 8 + 4;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a {expected} file")]
    Magic { expected: &'static str },
    #[error("format version {found}, this engine reads {FORMAT_VERSION}")]
    Version { found: u32 },
    #[error("record at byte {at} is cut short")]
    Truncated { at: u64 },
    #[error("record at byte {at} fails its checksum")]
    Checksum { at: u64 },
    #[error("record at byte {at} does not decode: {reason}")]
    Decode { at: u64, reason: String },
}

fn options() -> impl Options {
    bincode::DefaultOptions::new()
}

pub fn write_header(w: &mut impl Write, magic: &[u8; 8], generation: u64) -> io::Result<()> {
    let mut fields = [0u8; 12];
    fields[..4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    fields[4..].copy_from_slice(&generation.to_le_bytes());
    w.write_all(magic)?;
    w.write_all(&fields)?;
    w.write_all(&crc32fast::hash(&fields).to_le_bytes())
}

/// Encodes one record (length, CRC, body) onto `out`.
pub fn encode(out: &mut Vec<u8>, value: &impl Serialize) {
    let at = out.len();
    out.extend_from_slice(&[0; RECORD_OVERHEAD as usize]);
    // Serializing our own types into a Vec cannot fail.
    let _ = options().serialize_into(&mut *out, value);
    let body = &out[at + RECORD_OVERHEAD as usize..];
    let (len, crc) = (body.len() as u64, crc32fast::hash(body));
    out[at..at + 8].copy_from_slice(&len.to_le_bytes());
    out[at + 8..at + 12].copy_from_slice(&crc.to_le_bytes());
}

/// Reads framed data from a byte buffer (a whole file read at once).
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: u64,
}

impl<'a> Reader<'a> {
    /// Checks the header; returns the reader after it and the generation.
    pub fn open(bytes: &'a [u8], magic: &[u8; 8], expected: &'static str) -> Result<(Self, u64), FrameError> {
        if bytes.len() < HEADER_LEN as usize {
            return Err(if bytes.starts_with(&magic[..bytes.len().min(8)]) {
                FrameError::Truncated { at: 0 }
            } else {
                FrameError::Magic { expected }
            });
        }
        if &bytes[..8] != magic {
            return Err(FrameError::Magic { expected });
        }
        let crc = u32::from_le_bytes(bytes[20..24].try_into().unwrap_or_default());
        if crc32fast::hash(&bytes[8..20]) != crc {
            return Err(FrameError::Checksum { at: 0 });
        }
        let found = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
        if found != FORMAT_VERSION {
            return Err(FrameError::Version { found });
        }
        let generation = u64::from_le_bytes(bytes[12..20].try_into().unwrap_or_default());
        Ok((Reader { bytes, at: HEADER_LEN }, generation))
    }

    /// Where the next record starts.
    pub fn position(&self) -> u64 {
        self.at
    }

    /// The next record, `None` at a clean end.
    pub fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, FrameError> {
        let at = self.at;
        let rest = &self.bytes[at as usize..];
        if rest.is_empty() {
            return Ok(None);
        }
        if (rest.len() as u64) < RECORD_OVERHEAD {
            return Err(FrameError::Truncated { at });
        }
        let len = u64::from_le_bytes(rest[..8].try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(rest[8..12].try_into().unwrap_or_default());
        if len > rest.len() as u64 - RECORD_OVERHEAD {
            return Err(FrameError::Truncated { at });
        }
        let body = &rest[RECORD_OVERHEAD as usize..(RECORD_OVERHEAD + len) as usize];
        if crc32fast::hash(body) != crc {
            return Err(FrameError::Checksum { at });
        }
        let value = options()
            .with_limit(len)
            .deserialize(body)
            .map_err(|e| FrameError::Decode { at, reason: e.to_string() })?;
        self.at += RECORD_OVERHEAD + len;
        Ok(Some(value))
    }
}

/// Reads a whole file; a missing file is `None`.
pub fn read_file(path: &std::path::Path) -> io::Result<Option<Vec<u8>>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAGIC: &[u8; 8] = b"UPKTEST1";

    fn file(records: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&mut out, MAGIC, 7).unwrap();
        for r in records {
            encode(&mut out, r);
        }
        out
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<String>, FrameError> {
        let (mut r, generation) = Reader::open(bytes, MAGIC, "test")?;
        assert_eq!(generation, 7);
        let mut out = Vec::new();
        while let Some(s) = r.next::<String>()? {
            out.push(s);
        }
        Ok(out)
    }

    #[test]
    fn records_read_back_in_order() {
        assert_eq!(read_all(&file(&["a", "bc", ""])).unwrap(), ["a", "bc", ""]);
    }

    #[test]
    fn every_cut_is_reported_never_a_panic() {
        let bytes = file(&["first", "second"]);
        for len in 0..bytes.len() {
            match read_all(&bytes[..len]) {
                Ok(records) => assert!(records.len() < 2 || len == bytes.len(), "{len}"),
                Err(FrameError::Truncated { .. } | FrameError::Magic { .. }) => {}
                Err(e) => panic!("cut at {len}: {e}"),
            }
        }
    }

    #[test]
    fn every_flipped_bit_is_reported_never_a_panic() {
        let bytes = file(&["first", "second"]);
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert!(read_all(&b).is_err(), "bit {i} flipped went unnoticed");
        }
    }

    #[test]
    fn another_version_is_named() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(MAGIC);
        let fields = [9u32.to_le_bytes().as_slice(), 7u64.to_le_bytes().as_slice()].concat();
        bytes.extend_from_slice(&fields);
        bytes.extend_from_slice(&crc32fast::hash(&fields).to_le_bytes());
        assert!(matches!(read_all(&bytes), Err(FrameError::Version { found: 9 })));
    }
}
