//! Embeds the Kosha Mastodon Connector component in wasmtime.
pub mod openapi;
pub mod server;
