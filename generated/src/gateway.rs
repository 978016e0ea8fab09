//! Typed bindings for the Payment API Gateway, generated at build time from
//! `spec/gateway/openapi.yaml` and `spec/gateway/providers.yaml` by
//! `paygate-codegen`: the request, response and callback models, their open
//! enums, the operation table ([`OPERATIONS`], one marker type per operation
//! in [`operations`]) and the provider table ([`PROVIDER_TABLE`], [`ProviderId`]).

include!(concat!(env!("OUT_DIR"), "/gateway.rs"));
