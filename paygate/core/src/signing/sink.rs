//! Where the canonical bytes go: the [`ByteSink`] trait that the HMAC, a
//! `Vec<u8>` and the stack buffers implement, and that both the typed path
//! and the raw-JSON path write into.
//!
//! A leaf: it uses nothing else of the signing engine, so every other
//! module may depend on it.

use core::ops::Range;

/// Where the canonical bytes go.
pub trait ByteSink {
    /// Appends bytes to the canonical string.
    fn write(&mut self, bytes: &[u8]);

    /// Appends `first` then `second`: a key and its value. A sink that
    /// buffers (the MAC) overrides it to check its room once for both.
    #[inline(always)]
    fn write_pair(&mut self, first: &[u8], second: &[u8]) {
        self.write(first);
        self.write(second);
    }

    /// Appends `buf[first]` then `buf[second]`. A sink may read `buf`
    /// beyond the two ranges (the MAC copies fixed-size windows), never
    /// write anything but the two pieces.
    #[inline(always)]
    fn write_pair_within(&mut self, buf: &[u8], first: Range<usize>, second: Range<usize>) {
        self.write_pair(&buf[first], &buf[second]);
    }

    /// Appends `buf[piece]`, reading `buf` beyond it if the sink likes.
    #[inline(always)]
    fn write_within(&mut self, buf: &[u8], piece: Range<usize>) {
        self.write(&buf[piece]);
    }
}

impl ByteSink for Vec<u8> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl<S: ByteSink + ?Sized> ByteSink for &mut S {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) {
        (**self).write(bytes);
    }

    #[inline(always)]
    fn write_pair(&mut self, first: &[u8], second: &[u8]) {
        (**self).write_pair(first, second);
    }

    #[inline(always)]
    fn write_pair_within(&mut self, buf: &[u8], first: Range<usize>, second: Range<usize>) {
        (**self).write_pair_within(buf, first, second);
    }

    #[inline(always)]
    fn write_within(&mut self, buf: &[u8], piece: Range<usize>) {
        (**self).write_within(buf, piece);
    }
}
