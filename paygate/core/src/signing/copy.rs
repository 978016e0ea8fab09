//! Copying the short pieces the canonical string is made of (keys, values,
//! dots) into the buffering sinks (the MAC's block, the stack buffers)
//! without a call to `memcpy`.
//!
//! A leaf: it uses nothing else of the signing engine.

/// `dst.copy_from_slice(src)` for slices of equal length, with the short
/// pieces the canonical string is made of (keys, values, dots: mostly under
/// 64 bytes) copied by two overlapping fixed-size moves rather than a call
/// to `memcpy`, whose call and size dispatch cost more than the copy.
///
/// Each arm loads both halves into values of its own width before storing
/// them: written as two overlapping `copy_from_slice`s, the arms look alike
/// enough that LLVM merges their second copies into one `memcpy` call of
/// variable size, the very call this function exists to avoid.
#[inline(always)]
pub(super) fn copy_piece(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n != dst.len() {
        return dst.copy_from_slice(src); // panics, as `copy_from_slice` does
    }
    match n {
        0 => {}
        1..=3 => {
            let (a, b, c) = (src[0], src[n / 2], src[n - 1]);
            dst[0] = a;
            dst[n / 2] = b;
            dst[n - 1] = c;
        }
        4..=7 => {
            let (a, b) = (word::<4>(src, 0), word::<4>(src, n - 4));
            dst[..4].copy_from_slice(&a);
            dst[n - 4..].copy_from_slice(&b);
        }
        8..=15 => {
            let (a, b) = (word::<8>(src, 0), word::<8>(src, n - 8));
            dst[..8].copy_from_slice(&a);
            dst[n - 8..].copy_from_slice(&b);
        }
        16..=32 => {
            let (a, b) = (word::<16>(src, 0), word::<16>(src, n - 16));
            dst[..16].copy_from_slice(&a);
            dst[n - 16..].copy_from_slice(&b);
        }
        33..=64 => {
            let (a, b) = (word::<32>(src, 0), word::<32>(src, n - 32));
            dst[..32].copy_from_slice(&a);
            dst[n - 32..].copy_from_slice(&b);
        }
        _ => dst.copy_from_slice(src),
    }
}

/// The `N` bytes of `src` from `at` as a value (zeros if out of range,
/// which the callers' length checks rule out).
#[inline(always)]
pub(super) fn word<const N: usize>(src: &[u8], at: usize) -> [u8; N] {
    src.get(at..)
        .and_then(|rest| rest.first_chunk::<N>())
        .copied()
        .unwrap_or([0; N])
}
