//! End-to-end tests: the real component in real wasmtime (through
//! `host_test::Host`) against the Mastodon-compatible test server on
//! 127.0.0.1. One test binary, so wasmtime is linked once.

mod accounts;
mod errors;
mod faults;
mod flavors;
mod openapi;
mod recorded;
mod runner;
mod sandbox;
mod statuses;
mod support;
