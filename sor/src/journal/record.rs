//! One record on disk: the 16-byte header, the checksum, and encoding a record into a
//! buffer. Reading and verifying records is `scan`'s job; this module only knows bytes.

/// Bytes of the header before each payload: `len: u32`, `crc32c: u32`, `lsn: u64`, all
/// little-endian.
pub const HEADER_LEN: usize = 16;

/// The longest payload the format admits, whatever the configuration says: a header
/// whose length is larger is damage. Reading checks against this fixed bound, not against
/// [`super::JournalConfig::max_record_bytes`], so lowering that setting never makes
/// records already on disk look corrupt. It is also the ceiling for that setting.
pub const FORMAT_MAX_RECORD_BYTES: u32 = 64 * 1024 * 1024;

/// The CRC32C (Castagnoli) a record stores: over the 8 little-endian bytes of its lsn,
/// then its payload. The length field is not covered: a damaged length either points past
/// the end of the file or moves the checksummed range, which the checksum then catches.
pub fn checksum(lsn: u64, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&lsn.to_le_bytes()), payload)
}

/// A decoded record header; it says nothing about whether the record is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Payload length in bytes.
    pub len: u32,
    /// The stored checksum.
    pub crc: u32,
    /// The stored log sequence number.
    pub lsn: u64,
}

impl Header {
    /// Decodes the 16 header bytes.
    pub fn decode(b: &[u8; HEADER_LEN]) -> Self {
        Self {
            len: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            crc: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            lsn: u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]),
        }
    }
}

/// Replaces `buf`'s contents with the encoded record (header then payload). The caller
/// has already checked that `payload` fits in a `u32` length; `len` is that length.
pub fn encode_into(buf: &mut Vec<u8>, lsn: u64, len: u32, payload: &[u8]) {
    debug_assert_eq!(
        len as usize,
        payload.len(),
        "length field must match the payload"
    );
    buf.clear();
    buf.reserve(HEADER_LEN + payload.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&checksum(lsn, payload).to_le_bytes());
    buf.extend_from_slice(&lsn.to_le_bytes());
    buf.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_is_little_endian() {
        let mut buf = Vec::new();
        encode_into(&mut buf, 0x0102_0304_0506_0708, 3, b"abc");
        assert_eq!(buf.len(), HEADER_LEN + 3);
        assert_eq!(&buf[0..4], &[3, 0, 0, 0], "length first, little-endian");
        assert_eq!(
            &buf[8..16],
            &[8, 7, 6, 5, 4, 3, 2, 1],
            "lsn last, little-endian"
        );
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&buf[..HEADER_LEN]);
        let header = Header::decode(&h);
        assert_eq!(header.len, 3);
        assert_eq!(header.lsn, 0x0102_0304_0506_0708);
        assert_eq!(header.crc, checksum(header.lsn, b"abc"));
    }

    #[test]
    fn checksum_is_crc32c_over_lsn_then_payload() {
        // CRC32C check value for "123456789" is 0xE3069283 (RFC 3720 / iSCSI).
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        let mut joined = 7u64.to_le_bytes().to_vec();
        joined.extend_from_slice(b"payload");
        assert_eq!(checksum(7, b"payload"), crc32c::crc32c(&joined));
        assert_ne!(
            checksum(7, b"payload"),
            checksum(8, b"payload"),
            "lsn is covered"
        );
    }
}
