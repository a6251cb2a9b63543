//! Accounts: verify-credentials, get-account, lookup-account, get-statuses,
//! get-followers, get-following, with paging through every page.

use std::collections::HashSet;

use host_test::server::*;
use host_test::*;

use crate::support::*;

#[test]
fn verify_credentials_returns_the_token_owner_with_settings() {
    let (server, client) = setup(Flavor::Mastodon);
    let me = ok(client.verify_credentials());
    let sample = ids(Flavor::Mastodon);
    assert_eq!(me.value.account.id, sample.alice);
    assert_eq!(me.value.account.username, "alice");
    assert_eq!(me.value.account.followers_count, FOLLOWER_COUNT as i64);
    assert_eq!(me.value.account.following_count, FOLLOWING_COUNT as i64);
    let source = me.value.source.expect("source settings");
    assert!(source.privacy.is_some());
    assert!(me.rate_limit.limit.is_some() && me.rate_limit.remaining.is_some());
    assert!(
        me.rate_limit.reset_epoch_seconds.is_some(),
        "ISO reset parsed: {:?}",
        me.rate_limit
    );
    let sent = &server.exchanges()[0];
    assert_eq!(sent.path, "/api/v1/accounts/verify_credentials");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {USER_TOKEN}").as_str())
    );
    assert!(sent
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("KoshaMastodonConnector/")));
    assert_eq!(sent.header("accept"), Some("application/json"));
}

#[test]
fn get_account_and_lookup_find_the_same_account() {
    let (server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let bob = ok(client.get_account(&sample.bob)).value;
    assert_eq!(bob.username, "bob");
    for acct in ["bob", "@bob"] {
        assert_eq!(ok(client.lookup_account(acct)).value.id, bob.id);
    }
    let carol = ok(client.lookup_account("carol@remote.example")).value;
    assert_eq!(
        (carol.id.as_str(), carol.acct.as_str()),
        (sample.carol.as_str(), "carol@remote.example")
    );
    let lookups: Vec<_> = server
        .exchanges()
        .into_iter()
        .filter(|e| e.path == "/api/v1/accounts/lookup")
        .collect();
    assert_eq!(
        lookups[1].query_value("acct"),
        Some("bob"),
        "leading @ is dropped"
    );
}

#[test]
fn missing_gone_suspended_and_moved_accounts() {
    let (_server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    assert!(
        matches!(err(client.get_account("999999999")), Error::NotFound(m) if m == "Record not found")
    );
    assert!(matches!(
        err(client.lookup_account("nobody")),
        Error::NotFound(_)
    ));
    assert!(matches!(
        err(client.get_account(&sample.gone_account)),
        Error::Gone(_)
    ));
    assert_eq!(
        ok(client.get_account(&sample.suspended_account))
            .value
            .suspended,
        Some(true)
    );
    let moved = ok(client.get_account(&sample.moved)).value;
    assert_eq!(moved.moved.expect("moved to").id, sample.moved_target);
}

#[test]
fn every_page_of_an_accounts_statuses_is_reached_once() {
    let (_server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let pages = walk(
        |p| client.get_statuses(&sample.alice, &no_filters(), p),
        page(25),
        |p: &StatusPage| (p.items.len(), p.next.clone()),
    );
    assert!(pages.len() >= 3, "60 statuses in pages of 25");
    let seen: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|s| s.post.id.clone()))
        .collect();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), unique.len(), "no status twice");
    assert_eq!(unique, sample.alice_statuses.iter().collect::<HashSet<_>>());
    assert!(
        pages[0].prev.is_some(),
        "the first page links to newer items"
    );
    // Going back from the second page gives the first page's items.
    let back = ok(client.get_statuses(
        &sample.alice,
        &no_filters(),
        pages[1].prev.as_ref().unwrap(),
    ));
    let first: HashSet<_> = pages[0].items.iter().map(|s| &s.post.id).collect();
    assert!(back.items.iter().all(|s| first.contains(&s.post.id)) && !back.items.is_empty());
}

#[test]
fn status_filters_are_sent_and_honoured() {
    let (server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let only_media = ok(client.get_statuses(
        &sample.alice,
        &StatusFilters {
            only_media: true,
            ..no_filters()
        },
        &page(40),
    ));
    assert_eq!(only_media.items.len(), ALICE_MEDIA_STATUS_COUNT);
    assert!(only_media
        .items
        .iter()
        .all(|s| !s.post.media_attachments.is_empty()));
    let pinned = ok(client.get_statuses(
        &sample.alice,
        &StatusFilters {
            pinned: true,
            ..no_filters()
        },
        &page(40),
    ));
    assert_eq!(pinned.items.len(), ALICE_PINNED_COUNT);
    let no_boosts = walk(
        |p| {
            client.get_statuses(
                &sample.alice,
                &StatusFilters {
                    exclude_reblogs: true,
                    exclude_replies: true,
                    ..no_filters()
                },
                p,
            )
        },
        page(40),
        |p: &StatusPage| (p.items.len(), p.next.clone()),
    );
    let count: usize = no_boosts.iter().map(|p| p.items.len()).sum();
    assert_eq!(
        count,
        ALICE_STATUS_COUNT - ALICE_REBLOG_COUNT - ALICE_REPLY_COUNT
    );
    assert!(no_boosts
        .iter()
        .flat_map(|p| &p.items)
        .all(|s| s.reblog.is_none() && s.post.in_reply_to_id.is_none()));
    let tagged = ok(client.get_statuses(
        &sample.alice,
        &StatusFilters {
            tagged: Some("rust".into()),
            ..no_filters()
        },
        &page(40),
    ));
    assert_eq!(tagged.items.len(), ALICE_RUST_TAG_COUNT);
    let last = server.exchanges().pop().unwrap();
    assert_eq!(
        (last.query_value("tagged"), last.query_value("limit")),
        (Some("rust"), Some("40"))
    );
}

#[test]
fn boosts_polls_cards_emoji_and_media_are_decoded() {
    let (_server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let all: Vec<Status> = walk(
        |p| client.get_statuses(&sample.alice, &no_filters(), p),
        page(40),
        |p: &StatusPage| (p.items.len(), p.next.clone()),
    )
    .into_iter()
    .flat_map(|p| p.items)
    .collect();
    let by_id = |id: &str| {
        all.iter()
            .find(|s| s.post.id == id)
            .unwrap_or_else(|| panic!("status {id}"))
    };
    for boost in &sample.alice_reblogs {
        let original = by_id(boost)
            .reblog
            .as_ref()
            .expect("a boost carries the boosted status");
        assert_ne!(original.account.id, sample.alice);
    }
    let poll = by_id(&sample.poll_status).post.poll.clone().expect("poll");
    assert!(poll.options.len() >= 2 && poll.options.iter().all(|o| !o.title.is_empty()));
    assert!(by_id(&sample.card_status)
        .post
        .card
        .as_ref()
        .is_some_and(|c| !c.url.is_empty()));
    let emoji = &by_id(&sample.emoji_status).post;
    assert!(emoji
        .emojis
        .iter()
        .any(|e| e.shortcode == "kosha" && !e.url.is_empty()));
    let sensitive = &by_id(&sample.sensitive_status).post;
    assert!(sensitive.sensitive && !sensitive.spoiler_text.is_empty());
    let media = &by_id(sample.alice_media_statuses.last().unwrap())
        .post
        .media_attachments;
    assert_eq!(media.len(), 2);
    assert!(media.iter().all(|m| m.url.is_some()));
    for reply in &sample.alice_replies {
        assert!(by_id(reply).post.in_reply_to_id.is_some());
    }
}

#[test]
fn followers_and_following_are_walked_through_link_cursors() {
    let (server, client) = setup(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let pages = walk(
        |p| client.get_followers(&sample.alice, p),
        page(40),
        |p: &AccountPage| (p.items.len(), p.next.clone()),
    );
    let followers: Vec<&String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|a| &a.id))
        .collect();
    assert_eq!(followers.len(), FOLLOWER_COUNT);
    assert_eq!(
        followers.iter().collect::<HashSet<_>>().len(),
        FOLLOWER_COUNT,
        "no follower twice"
    );
    assert!(pages.len() >= 3);
    // The cursors are the server's follow ids, not account ids: they came from Link.
    let cursors: Vec<String> = server
        .exchanges()
        .iter()
        .filter_map(|e| e.query_value("max_id").map(str::to_string))
        .collect();
    assert_eq!(cursors.len(), pages.len() - 1);
    let following = walk(
        |p| client.get_following(&sample.alice, p),
        page(80),
        |p: &AccountPage| (p.items.len(), p.next.clone()),
    );
    assert_eq!(
        following.iter().map(|p| p.items.len()).sum::<usize>(),
        FOLLOWING_COUNT
    );
    let hidden = ok(client.get_followers(&sample.dave, &first_page()));
    assert!(hidden.items.is_empty() && hidden.next.is_none());
}
