//! How typed values enter the canonical string: the [`Signable`] and
//! [`SignValue`] traits that `#[derive(Signable)]` implements, and their
//! implementations for the scalar types the generated models use.

use super::canonical::{Canonicalizer, SignError};
use super::segment::Segment;
use super::sink::ByteSink;

/// A payload whose fields, in declaration order, form the canonical string.
///
/// Implemented by `#[derive(Signable)]`; each field is written under its
/// serde name. The derive also implements [`SignValue`], so a signable struct
/// nests inside another under the prefix `field.`.
pub trait Signable {
    /// Writes every field of the payload into `out`.
    fn write_fields<'a, S: ByteSink>(
        &'a self,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError>;
}

/// A value that can stand under a key in a signed payload.
pub trait SignValue {
    /// Writes this value under `key`: a scalar as `prefix + key + value`, a
    /// nested object or list as its entries under `prefix + key + "."`.
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError>;
}

impl SignValue for str {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        out.scalar(key, self.as_bytes());
        Ok(())
    }
}

impl SignValue for String {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        self.as_str().write_value(key, out)
    }
}

/// PHP prints `true` as `1` and `false` as the empty string.
impl SignValue for bool {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        out.scalar(key, if *self { b"1" } else { b"" });
        Ok(())
    }
}

macro_rules! integer_sign_value {
    ($($t:ty),*) => {$(
        impl SignValue for $t {
            #[inline]
            fn write_value<'a, S: ByteSink>(
                &'a self,
                key: Segment<'a>,
                out: &mut Canonicalizer<'a, S>,
            ) -> Result<(), SignError> {
                let mut buf = itoa::Buffer::new();
                out.scalar(key, buf.format(*self).as_bytes());
                Ok(())
            }
        }
    )*};
}
integer_sign_value!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

/// An absent optional field is not sent, so it is not signed.
impl<T: SignValue> SignValue for Option<T> {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        match self {
            Some(value) => value.write_value(key, out),
            None => Ok(()),
        }
    }
}

/// A list contributes its items under `key.0.`, `key.1.`, ...; an empty list
/// contributes nothing (but still counts towards the depth limit).
impl<T: SignValue> SignValue for [T] {
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        out.enter(key)?;
        for (i, item) in self.iter().enumerate() {
            item.write_value(Segment::Index(i), out)?;
        }
        out.leave();
        Ok(())
    }
}

impl<T: SignValue> SignValue for Vec<T> {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        self.as_slice().write_value(key, out)
    }
}

impl<T: SignValue + ?Sized> SignValue for &T {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        (**self).write_value(key, out)
    }
}

impl<T: SignValue + ?Sized> SignValue for Box<T> {
    #[inline]
    fn write_value<'a, S: ByteSink>(
        &'a self,
        key: Segment<'a>,
        out: &mut Canonicalizer<'a, S>,
    ) -> Result<(), SignError> {
        (**self).write_value(key, out)
    }
}
