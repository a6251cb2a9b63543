//! Every request the component makes, and every answer the test server gives,
//! conforms to `openapi.json`.

use host_test::openapi::Spec;
use host_test::server::*;
use host_test::*;

use crate::support::*;

#[test]
fn every_exchange_conforms_to_openapi_json() {
    let spec =
        Spec::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.json"))
            .expect("openapi.json loads");
    let mut checked = 0;
    for flavor in Flavor::ALL {
        let (server, client) = setup(flavor);
        let sample = ids(flavor);
        ok(client.verify_credentials());
        ok(client.get_account(&sample.bob));
        ok(client.lookup_account("bob"));
        let _ = client.get_account("999999").expect("host");
        walk(
            |p| {
                client.get_statuses(
                    &sample.alice,
                    &StatusFilters {
                        exclude_replies: true,
                        ..no_filters()
                    },
                    p,
                )
            },
            page(30),
            |p: &StatusPage| (p.items.len(), p.next.clone()),
        );
        walk(
            |p| client.get_followers(&sample.alice, p),
            page(80),
            |p: &AccountPage| (p.items.len(), p.next.clone()),
        );
        ok(client.get_following(&sample.alice, &first_page()));
        ok(client.post_status(&NewStatus {
            poll: Some(NewPoll {
                options: vec!["a".into(), "b".into()],
                expires_in: 600,
                multiple: false,
                hide_totals: false,
            }),
            visibility: Some(Visibility::Private),
            spoiler_text: Some("cw".into()),
            language: Some("en".into()),
            ..text_status("openapi #check")
        }));
        ok(client.post_status(&NewStatus {
            media_ids: sample.known_media[..1].to_vec(),
            ..text_status("media")
        }));
        ok(client.post_status(&NewStatus {
            scheduled_at: Some("2999-06-01T10:00:00Z".into()),
            ..text_status("later")
        }));
        let _ = client
            .post_status(&NewStatus {
                media_ids: vec!["424242".into()],
                ..text_status("bad media")
            })
            .expect("host");
        ok(client.get_timeline(&Timeline::Home, &page(40)));
        ok(client.get_timeline(
            &Timeline::Public(PublicFilters {
                local: true,
                ..public_filters()
            }),
            &page(40),
        ));
        ok(client.get_timeline(
            &Timeline::Hashtag(HashtagTimeline {
                hashtag: "kosha".into(),
                any: vec!["rust".into()],
                all: vec![],
                none: vec!["x".into()],
                filters: public_filters(),
            }),
            &page(10),
        ));
        ok(client.get_timeline(&Timeline::List(sample.own_list.clone()), &first_page()));
        ok(client.search(
            "kosha",
            &SearchOptions {
                limit: Some(5),
                ..search_options()
            },
        ));
        ok(client.search(
            "bob",
            &SearchOptions {
                kind: Some(SearchKind::Accounts),
                offset: Some(0),
                ..search_options()
            },
        ));
        for exchange in server.exchanges() {
            let body = (!exchange.body.is_empty()).then(|| {
                serde_json::from_slice(&exchange.body).expect("the component sends JSON bodies")
            });
            spec.check_request(
                &exchange.method,
                &exchange.path,
                &exchange.query,
                body.as_ref(),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{flavor}: request {} {}?{}: {e}",
                    exchange.method, exchange.path, exchange.raw_query
                )
            });
            spec.check_response(
                &exchange.method,
                &exchange.path,
                exchange.status,
                &exchange.response_headers,
                &exchange.response_body,
            )
            .unwrap_or_else(|e| {
                panic!(
                    "{flavor}: response to {} {}: {} {e}",
                    exchange.method, exchange.path, exchange.status
                )
            });
            checked += 1;
        }
    }
    println!("exchanges checked against openapi.json: {checked}");
    assert!(checked > 60);
}
