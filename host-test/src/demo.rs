//! `host-test demo`: starts the embedded test server with its sample data and
//! walks through every action, printing what each returned.

use std::io::Write;
use std::sync::Arc;

use anyhow::{anyhow, Result};

use crate::server::{ids, strip_tags, Flavor, TestServer, USER_TOKEN};
use crate::*;

/// Unwraps an action's outcome, turning an action error into a demo failure.
fn ok<T>(outcome: Outcome<T>) -> Result<T> {
    outcome?.map_err(|e| anyhow!("{}: {e:?}", error_case(&e)))
}

/// The start of a status's text, for a one-line summary.
fn first_line(html: &str) -> String {
    let text = strip_tags(html)
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    text.chars().take(70).collect()
}

pub fn run(flavor: Flavor, out: &mut dyn Write) -> Result<()> {
    let server = TestServer::start(flavor);
    let sample = ids(flavor);
    writeln!(
        out,
        "Kosha Mastodon Connector demo\ntest server ({flavor} flavor) at {}\n",
        server.url()
    )?;
    let host = Arc::new(Host::new()?);
    let client = Client::new(
        host.clone(),
        Connection::new(server.url(), Some(USER_TOKEN.to_string())),
    );

    let me = ok(client.verify_credentials())?;
    let a = &me.value.account;
    let known = |n: Option<i64>| n.map_or("?".to_string(), |n| n.to_string());
    writeln!(out, "verify-credentials  -> @{} ({}), {} statuses, {} followers, {} following; {} of {} requests left",
        a.acct, a.display_name, a.statuses_count, a.followers_count, a.following_count,
        known(me.rate_limit.remaining), known(me.rate_limit.limit))?;

    let bob = ok(client.lookup_account("bob"))?.value;
    writeln!(
        out,
        "lookup-account bob  -> id {}, @{} \"{}\"",
        bob.id, bob.acct, bob.display_name
    )?;
    let carol = ok(client.get_account(&sample.carol))?.value;
    writeln!(
        out,
        "get-account {}  -> @{} created {}",
        carol.id,
        carol.acct,
        carol.created_at.unwrap_or_default()
    )?;

    let mut page = PageRequest {
        limit: Some(5),
        ..first_page()
    };
    let statuses = ok(client.get_statuses(
        &a.id,
        &StatusFilters {
            only_media: false,
            exclude_replies: false,
            exclude_reblogs: false,
            pinned: false,
            tagged: None,
        },
        &page,
    ))?;
    writeln!(
        out,
        "get-statuses (5)    -> {} statuses, next page {}",
        statuses.items.len(),
        if statuses.next.is_some() {
            "available"
        } else {
            "none"
        }
    )?;
    for s in &statuses.items {
        match &s.reblog {
            Some(boosted) => writeln!(
                out,
                "    {}  boosted @{}: {}",
                s.post.id,
                boosted.account.acct,
                first_line(&boosted.content)
            )?,
            None => writeln!(out, "    {}  {}", s.post.id, first_line(&s.post.content))?,
        }
    }

    // Walk every page of followers through the Link cursors.
    page = PageRequest {
        limit: Some(40),
        ..first_page()
    };
    let (mut pages, mut followers) = (0, 0);
    loop {
        let result = ok(client.get_followers(&a.id, &page))?;
        pages += 1;
        followers += result.items.len();
        match result.next {
            Some(next) if !result.items.is_empty() => page = next,
            _ => break,
        }
    }
    writeln!(
        out,
        "get-followers       -> {followers} followers in {pages} pages of 40"
    )?;
    let following = ok(client.get_following(&a.id, &first_page()))?;
    writeln!(
        out,
        "get-following       -> {} accounts on the first page",
        following.items.len()
    )?;

    let text = "Hello from the Kosha Mastodon Connector demo #kosha";
    let posted = ok(client.post_status(&NewStatus {
        visibility: Some(Visibility::Public),
        language: Some("en".into()),
        ..text_status(text)
    }))?;
    let posted_id = match &posted.value {
        Posted::Published(s) => s.post.id.clone(),
        Posted::Scheduled(s) => s.id.clone(),
    };
    writeln!(
        out,
        "post-status         -> published {posted_id}: \"{text}\""
    )?;

    let home = ok(client.get_timeline(
        &Timeline::Home,
        &PageRequest {
            limit: Some(3),
            ..first_page()
        },
    ))?;
    writeln!(
        out,
        "get-timeline home   -> newest {} (the new post first: {})",
        home.items.len(),
        home.items.first().is_some_and(|s| s.post.id == posted_id)
    )?;
    let tag = Timeline::Hashtag(HashtagTimeline {
        hashtag: "kosha".into(),
        any: vec![],
        all: vec![],
        none: vec![],
        filters: PublicFilters {
            local: false,
            remote: false,
            only_media: false,
        },
    });
    let tagged = ok(client.get_timeline(&tag, &first_page()))?;
    writeln!(
        out,
        "get-timeline #kosha -> {} statuses",
        tagged.items.len()
    )?;

    let found = ok(client.search(
        "kosha",
        &SearchOptions {
            kind: None,
            resolve: false,
            following: false,
            account_id: None,
            exclude_unreviewed: false,
            max_id: None,
            min_id: None,
            limit: Some(5),
            offset: None,
        },
    ))?;
    writeln!(
        out,
        "search \"kosha\"      -> {} accounts, {} statuses, {} hashtags",
        found.accounts.len(),
        found.statuses.len(),
        found.hashtags.len()
    )?;

    let missing = client.get_account(&sample.gone_account)?;
    writeln!(
        out,
        "get-account (gone)  -> error {}",
        missing.as_ref().err().map(error_case).unwrap_or("none")
    )?;
    let bad = client.get_account("../admin")?;
    writeln!(
        out,
        "get-account ../admin -> error {} (nothing sent)",
        bad.as_ref().err().map(error_case).unwrap_or("none")
    )?;

    writeln!(out, "\n{} requests served. Try an action yourself:\n  MASTODON_ACCESS_TOKEN=... cargo run --release -p host-test -- --server https://your.server verify-credentials", server.request_count())?;
    Ok(())
}
