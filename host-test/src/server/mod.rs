//! Mastodon-compatible test server (being written).
