//! A small fixed buffer on the stack that takes canonical-string pieces:
//! the decoded dotted prefix of the current level, or a signature being
//! unescaped. Writing past its end drops the piece and sets `overflow`, so
//! the caller can fall back to something unbounded.

use super::copy::copy_piece;
use super::sink::ByteSink;

/// Up to `N` bytes on the stack; longer input sets `overflow` and is dropped.
pub(super) struct StackBuf<const N: usize> {
    pub(super) buf: [u8; N],
    pub(super) len: usize,
    pub(super) overflow: bool,
}

impl<const N: usize> StackBuf<N> {
    #[inline]
    pub(super) fn new() -> Self {
        StackBuf {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl<const N: usize> ByteSink for StackBuf<N> {
    // One room check for both pieces.
    #[inline(always)]
    fn write_pair(&mut self, first: &[u8], second: &[u8]) {
        let mid = self.len + first.len();
        let end = mid + second.len();
        if end <= N && !self.overflow {
            copy_piece(&mut self.buf[self.len..mid], first);
            copy_piece(&mut self.buf[mid..end], second);
            self.len = end;
        } else {
            self.overflow = true;
        }
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        match self.buf.get_mut(self.len..self.len + bytes.len()) {
            Some(dst) if !self.overflow => {
                copy_piece(dst, bytes);
                self.len += bytes.len();
            }
            _ => self.overflow = true,
        }
    }
}
