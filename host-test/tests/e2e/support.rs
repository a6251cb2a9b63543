//! Shared set-up: one compiled component for all tests, and small helpers.

use std::sync::{Arc, OnceLock};

use host_test::server::{Flavor, TestServer, USER_TOKEN};
use host_test::*;

/// The component is compiled once and shared, as a runtime would.
pub fn host() -> Arc<Host> {
    static HOST: OnceLock<Arc<Host>> = OnceLock::new();
    HOST.get_or_init(|| Arc::new(Host::new().expect("the component loads")))
        .clone()
}

/// A server of the given flavor and a client with alice's token.
pub fn setup(flavor: Flavor) -> (TestServer, Client) {
    let server = TestServer::start(flavor);
    let client = client_with(&server, Some(USER_TOKEN));
    (server, client)
}

pub fn client_with(server: &TestServer, token: Option<&str>) -> Client {
    Client::new(
        host(),
        Connection::new(server.url(), token.map(str::to_string)),
    )
}

/// The action's value; panics with the error case otherwise.
pub fn ok<T>(outcome: Outcome<T>) -> T {
    match outcome.expect("no host failure") {
        Ok(value) => value,
        Err(error) => panic!("expected success, got {}: {error:?}", error_case(&error)),
    }
}

/// The action's error; panics when it succeeded.
pub fn err<T: std::fmt::Debug>(outcome: Outcome<T>) -> Error {
    match outcome.expect("no host failure") {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(error) => error,
    }
}

/// A retry policy that never retries: each answer is the one the error comes from.
pub fn no_retry() -> RetrySettings {
    RetrySettings {
        max_retries: 0,
        initial_backoff_ms: 0,
        max_backoff_ms: 0,
    }
}

pub fn page(limit: u32) -> PageRequest {
    PageRequest {
        limit: Some(limit),
        ..first_page()
    }
}

pub fn no_filters() -> StatusFilters {
    StatusFilters {
        only_media: false,
        exclude_replies: false,
        exclude_reblogs: false,
        pinned: false,
        tagged: None,
    }
}

pub fn public_filters() -> PublicFilters {
    PublicFilters {
        local: false,
        remote: false,
        only_media: false,
    }
}

pub fn hashtag(tag: &str) -> Timeline {
    Timeline::Hashtag(HashtagTimeline {
        hashtag: tag.into(),
        any: vec![],
        all: vec![],
        none: vec![],
        filters: public_filters(),
    })
}

pub fn search_options() -> SearchOptions {
    SearchOptions {
        kind: None,
        resolve: false,
        following: false,
        account_id: None,
        exclude_unreviewed: false,
        max_id: None,
        min_id: None,
        limit: None,
        offset: None,
    }
}

/// Follows `next` cursors from the first page until the server has no more,
/// returning every page. Bounded, so a cursor loop fails instead of hanging.
pub fn walk<P>(
    mut fetch: impl FnMut(&PageRequest) -> Outcome<P>,
    first: PageRequest,
    split: impl Fn(&P) -> (usize, Option<PageRequest>),
) -> Vec<P> {
    let mut pages = Vec::new();
    let mut request = first;
    for _ in 0..100 {
        let result = ok(fetch(&request));
        let (count, next) = split(&result);
        pages.push(result);
        match next {
            Some(next) if count > 0 => request = next,
            _ => return pages,
        }
    }
    panic!("more than 100 pages: the cursors loop");
}
