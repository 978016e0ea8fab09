//! paygate-conformance: the gateway simulator, the conformance suite, and
//! the `paygate` command line that drives them.
#![forbid(unsafe_code)]

pub mod conform;
pub mod merchant;
pub mod simulator;
