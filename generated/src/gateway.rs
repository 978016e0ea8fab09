//! Typed bindings for the Payment API Gateway, generated at build time from
//! `spec/gateway/openapi.yaml` and `spec/gateway/providers.yaml` by
//! `paygate-codegen`: the request, response and callback models, their open
//! enums, the operation table ([`OPERATIONS`], one marker type per operation
//! in [`operations`]) and the provider table ([`PROVIDER_TABLE`], [`ProviderId`]).

include!(concat!(env!("OUT_DIR"), "/gateway.rs"));

impl Status {
    /// Whether the operation will not change any more: success (2), failed
    /// (3), cancelled (4) or cancelled partially (5). A hold (6) waits for
    /// the withdrawal that consumes it, an operation in transit (7) for the
    /// cash to be handed over, and an undefined one (-1) for the gateway to
    /// settle it.
    pub const fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Cancelled | Self::CancelledPartially
        )
    }

    /// Whether the money moved as asked: success (2), or a successful hold
    /// (6).
    pub const fn is_success(&self) -> bool {
        matches!(self, Self::Success | Self::SuccessHold)
    }
}
