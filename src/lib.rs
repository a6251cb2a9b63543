//! Kosha Mastodon Connector: a WASI 0.2 component exporting typed Mastodon
//! actions (see `wit/`). Module map, one concern each:
//! - `actions`: the exported functions, each a short recipe over the others;
//! - `validate`: input checks made before anything is sent;
//! - `url`: the server URL, path segments and query strings;
//! - `transport`: the only I/O (waki over WASI HTTP), token and refresh;
//! - `headers`: `Link` cursors and `X-RateLimit-*`;
//! - `errors`: HTTP answers and transport failures to the WIT error;
//! - `entities`: tolerant JSON to WIT conversion;
//! - `time`: RFC 3339 parsing shared by validation and rate limits.

wit_bindgen::generate!({
    world: "connector",
    path: "wit",
    additional_derives: [PartialEq],
});

mod actions;
mod entities;
mod errors;
mod headers;
mod time;
mod transport;
mod url;
mod validate;

#[cfg(test)]
mod robustness;

pub use exports::kosha::mastodon::types;

/// The decoding the component does, callable natively: the benchmark's
/// native baseline decodes the same JSON with the same code.
#[doc(hidden)]
pub mod native {
    pub use crate::entities::{account, many, one, status};
}

/// The component's exports are implemented on this type (see `actions`).
pub struct Connector;

// Exported only in the component: the export names (`kosha:mastodon/...`)
// are not valid symbol names for a native shared library, where the crate is
// built only to run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Connector);
