//! The same actions against each server flavor, whose JSON differs the way
//! real servers' does (ids, timestamps, null and oddly typed fields, Link
//! order, rate-limit reset form, User-Agent requirement).

use std::collections::HashSet;

use host_test::server::*;
use host_test::*;

use crate::support::*;

/// Every action succeeds against every flavor, and paging reaches every item.
#[test]
fn every_action_works_against_every_flavor() {
    for flavor in Flavor::ALL {
        let (server, client) = setup(flavor);
        let sample = ids(flavor);
        let me = ok(client.verify_credentials()).value;
        assert_eq!(me.account.id, sample.alice, "{flavor}");
        assert!(
            !me.account.display_name.is_empty(),
            "{flavor}: display name falls back to the username"
        );
        assert_eq!(
            ok(client.get_account(&sample.bob)).value.id,
            sample.bob,
            "{flavor}"
        );
        assert_eq!(
            ok(client.lookup_account("carol@remote.example")).value.id,
            sample.carol,
            "{flavor}"
        );
        let statuses = walk(
            |p| client.get_statuses(&sample.alice, &no_filters(), p),
            page(40),
            |p: &StatusPage| (p.items.len(), p.next.clone()),
        );
        let ids_seen: HashSet<String> = statuses
            .iter()
            .flat_map(|p| p.items.iter().map(|s| s.post.id.clone()))
            .collect();
        assert_eq!(
            ids_seen,
            sample.alice_statuses.iter().cloned().collect(),
            "{flavor}: every status once"
        );
        let followers = walk(
            |p| client.get_followers(&sample.alice, p),
            page(40),
            |p: &AccountPage| (p.items.len(), p.next.clone()),
        );
        assert_eq!(
            followers.iter().map(|p| p.items.len()).sum::<usize>(),
            FOLLOWER_COUNT,
            "{flavor}"
        );
        let following = walk(
            |p| client.get_following(&sample.alice, p),
            page(40),
            |p: &AccountPage| (p.items.len(), p.next.clone()),
        );
        assert_eq!(
            following.iter().map(|p| p.items.len()).sum::<usize>(),
            FOLLOWING_COUNT,
            "{flavor}"
        );
        let posted =
            match ok(client.post_status(&text_status(&format!("hello from {flavor} #flavortest"))))
                .value
            {
                Posted::Published(s) => s.post.id,
                other => panic!("{flavor}: {other:?}"),
            };
        assert_eq!(
            ok(client.get_timeline(&Timeline::Home, &page(1))).items[0]
                .post
                .id,
            posted,
            "{flavor}"
        );
        assert_eq!(
            ok(client.get_timeline(&hashtag("flavortest"), &page(1))).items[0]
                .post
                .id,
            posted,
            "{flavor}"
        );
        ok(client.get_timeline(&Timeline::Public(public_filters()), &page(20)));
        ok(client.get_timeline(&Timeline::List(sample.own_list.clone()), &page(20)));
        let found = ok(client.search("hello from", &search_options()));
        assert!(
            found.statuses.iter().any(|s| s.post.id == posted),
            "{flavor}"
        );
        assert!(server.request_count() > 10);
    }
}

#[test]
fn gotosocial_rate_limit_reset_is_unix_seconds_and_user_agent_is_sent() {
    let (server, client) = setup(Flavor::GoToSocial);
    let me = ok(client.verify_credentials());
    let reset = me.rate_limit.reset.clone().expect("reset sent");
    assert!(
        reset.bytes().all(|b| b.is_ascii_digit()),
        "GoToSocial sends Unix seconds: {reset}"
    );
    assert_eq!(me.rate_limit.reset_epoch_seconds, reset.parse().ok());
    assert!(server.exchanges()[0].header("user-agent").is_some());
}

#[test]
fn pleroma_quirks_are_tolerated() {
    let (_server, client) = setup(Flavor::Pleroma);
    let sample = ids(Flavor::Pleroma);
    assert!(
        !sample.alice.bytes().all(|b| b.is_ascii_digit()),
        "Pleroma ids are not numeric"
    );
    let me = ok(client.verify_credentials()).value;
    assert_eq!(
        me.source.expect("source").privacy,
        None,
        "Pleroma omits source.privacy"
    );
    let statuses: Vec<Status> = walk(
        |p| client.get_statuses(&sample.alice, &no_filters(), p),
        page(40),
        |p: &StatusPage| (p.items.len(), p.next.clone()),
    )
    .into_iter()
    .flat_map(|p| p.items)
    .collect();
    assert!(
        statuses
            .iter()
            .any(|s| s.post.visibility == Visibility::Other("local".into())),
        "visibility `local` arrives as other"
    );
}

#[test]
fn pixelfed_quirks_are_tolerated() {
    let (_server, client) = setup(Flavor::Pixelfed);
    let sample = ids(Flavor::Pixelfed);
    let statuses: Vec<Status> = walk(
        |p| client.get_statuses(&sample.alice, &no_filters(), p),
        page(40),
        |p: &StatusPage| (p.items.len(), p.next.clone()),
    )
    .into_iter()
    .flat_map(|p| p.items)
    .collect();
    assert_eq!(statuses.len(), ALICE_STATUS_COUNT);
    assert!(
        statuses.iter().any(|s| s.post.content.is_empty()),
        "content null becomes empty"
    );
    let card = statuses
        .iter()
        .find(|s| s.post.id == sample.card_status)
        .and_then(|s| s.post.card.clone())
        .expect("card");
    assert!(card.width.is_some(), "a width sent as a string is read");
    assert!(
        statuses
            .iter()
            .flat_map(|s| &s.post.media_attachments)
            .any(|m| m.meta.as_ref().is_some_and(|meta| meta.width.is_some())),
        "flat media meta is read"
    );
    let me = ok(client.verify_credentials()).value;
    assert_eq!(
        me.source.expect("source").sensitive,
        Some(true),
        "\"true\" as a string is a boolean"
    );
    let dave = ok(client.get_account(&sample.dave)).value;
    assert_eq!(dave.followers_count, -1, "hidden counts stay negative");
}
