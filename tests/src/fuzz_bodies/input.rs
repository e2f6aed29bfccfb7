//! Reads structured fuzz input out of raw bytes: the fuzzer mutates bytes, and each
//! structured target decodes them the same way every time, so a saved input always
//! replays the same case. Past the end every read gives zeros.

/// A cursor over fuzz input bytes.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, 0 past the end.
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// Up to `n` next bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// The next `N` bytes as a big-endian unsigned integer, zero-padded at the end.
    fn be<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let head = self.bytes(N);
        out[..head.len()].copy_from_slice(head);
        out
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.be())
    }

    /// The next eight bytes, big-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.be())
    }

    /// The next sixteen bytes, big-endian.
    pub fn u128(&mut self) -> u128 {
        u128::from_be_bytes(self.be())
    }

    /// A short text: a length byte (at most `max`), then that many bytes read as
    /// UTF-8 with invalid sequences replaced.
    pub fn text(&mut self, max: usize) -> String {
        let len = usize::from(self.byte()) % (max + 1);
        String::from_utf8_lossy(self.bytes(len)).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_the_end_are_zero() {
        let mut i = Input::new(&[1, 2, 3]);
        assert_eq!(i.byte(), 1);
        assert_eq!(i.u16(), 0x0203);
        assert!(i.is_empty());
        assert_eq!(i.u64(), 0);
        assert_eq!(Input::new(&[0xff]).u16(), 0xff00);
        assert_eq!(Input::new(&[2, b'a', b'b', b'c']).text(8), "ab");
    }
}
