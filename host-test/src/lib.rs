//! Embeds the Kosha Mastodon Connector component in wasmtime.
//!
//! - [`embed`]: the engine, the per-call store, limits and the connection;
//! - [`egress`]: the policy that keeps requests on the configured server;
//! - [`Client`]: one typed method per action;
//! - [`server`]: a Mastodon-compatible test server for tests and the demo;
//! - [`openapi`]: checks exchanges against `openapi.json`.

pub mod demo;
pub mod egress;
pub mod embed;
pub mod faults;
pub mod openapi;
pub mod runner;
pub mod server;

use std::sync::Arc;

use anyhow::Result;

pub use embed::exports::kosha::mastodon::accounts::StatusFilters;
pub use embed::exports::kosha::mastodon::search::{SearchKind, SearchOptions, SearchResults};
pub use embed::exports::kosha::mastodon::timelines::{HashtagTimeline, PublicFilters, Timeline};
pub use embed::types::*;
pub use embed::{Connection, Host, Limits, Refresh, RetrySettings, DEFAULT_RETRY};

/// What an action returns: the outer `Result` is a host failure (trap,
/// deadline, memory limit), the inner one the action's own outcome.
pub type Outcome<T> = Result<Result<T, Error>>;

/// A connector bound to one connection: one typed method per action.
#[derive(Clone)]
pub struct Client {
    host: Arc<Host>,
    connection: Arc<Connection>,
}

impl Client {
    pub fn new(host: Arc<Host>, connection: Connection) -> Client {
        Client {
            host,
            connection: Arc::new(connection),
        }
    }

    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    pub fn verify_credentials(&self) -> Outcome<CredentialAccountResult> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts().call_verify_credentials(s)
        })
    }

    pub fn get_account(&self, id: &str) -> Outcome<AccountResult> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts().call_get_account(s, id)
        })
    }

    pub fn lookup_account(&self, acct: &str) -> Outcome<AccountResult> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts().call_lookup_account(s, acct)
        })
    }

    pub fn get_statuses(
        &self,
        account_id: &str,
        filters: &StatusFilters,
        page: &PageRequest,
    ) -> Outcome<StatusPage> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts()
                .call_get_statuses(s, account_id, filters, page)
        })
    }

    pub fn get_followers(&self, account_id: &str, page: &PageRequest) -> Outcome<AccountPage> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts()
                .call_get_followers(s, account_id, page)
        })
    }

    pub fn get_following(&self, account_id: &str, page: &PageRequest) -> Outcome<AccountPage> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_accounts()
                .call_get_following(s, account_id, page)
        })
    }

    pub fn post_status(&self, status: &NewStatus) -> Outcome<PostResult> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_statuses().call_post_status(s, status)
        })
    }

    pub fn get_timeline(&self, timeline: &Timeline, page: &PageRequest) -> Outcome<StatusPage> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_timelines()
                .call_get_timeline(s, timeline, page)
        })
    }

    pub fn search(&self, query: &str, options: &SearchOptions) -> Outcome<SearchResults> {
        self.host.call(&self.connection, |c, s| {
            c.kosha_mastodon_search().call_search(s, query, options)
        })
    }
}

/// An empty page request: the newest page with the server's default size.
pub fn first_page() -> PageRequest {
    PageRequest {
        max_id: None,
        since_id: None,
        min_id: None,
        limit: None,
    }
}

/// A new status with only its text set.
pub fn text_status(text: &str) -> NewStatus {
    NewStatus {
        text: Some(text.to_string()),
        visibility: None,
        spoiler_text: None,
        sensitive: None,
        language: None,
        in_reply_to_id: None,
        media_ids: vec![],
        poll: None,
        scheduled_at: None,
        idempotency_key: None,
    }
}

/// The WIT name of an error's case, for messages and JSON output.
pub fn error_case(error: &Error) -> &'static str {
    match error {
        Error::InvalidInput(_) => "invalid-input",
        Error::BadConfiguration(_) => "bad-configuration",
        Error::Unauthorized(_) => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound(_) => "not-found",
        Error::Gone(_) => "gone",
        Error::Rejected(_) => "rejected",
        Error::RateLimited(_) => "rate-limited",
        Error::ServerError(_) => "server-error",
        Error::RequestFailed(_) => "request-failed",
        Error::NetworkFailure(_) => "network-failure",
        Error::UndecodableResponse(_) => "undecodable-response",
    }
}
