//! What every check returns ([`Check`]) and the [`ensure!`] macro that
//! fails it with the first thing that did not hold.

/// The result of a check: `Err(message)` with the first thing that did not
/// hold.
pub(crate) type Check = Result<(), String>;

/// Returns `Err(format!(...))` from the check unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}
pub(crate) use ensure;
