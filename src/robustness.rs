//! Property tests of everything that reads server output: arbitrary bytes and
//! mutated real-looking JSON give a value or a typed error, never a panic.
//! `KOSHA_FUZZ_ITERATIONS` sets the number of cases (default 3000 each; CI
//! runs the default as a short pass).

use serde_json::{json, Value};

use crate::{entities, errors, headers};

/// xorshift64*: a small, seedable generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max);
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Text built from pieces that matter to the parsers under test.
    fn tricky_text(&mut self, max: usize) -> String {
        const PIECES: [&str; 24] = [
            "<",
            ">",
            ";",
            ",",
            "\"",
            "\\",
            "rel=",
            "next",
            "prev",
            "max_id=",
            "?",
            "&",
            "=",
            "%",
            "%zz",
            "%2F",
            "é",
            "\u{0}",
            " ",
            "http://h/",
            "1785592200",
            "2026-08-01T13:50:00Z",
            "-",
            "9999999999999999999999",
        ];
        let len = self.below(max);
        (0..len).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }

    fn value(&mut self, depth: usize) -> Value {
        match self.below(if depth > 3 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => json!(self.below(2) == 0),
            2 => json!(self.next() as i64),
            3 => json!((self.next() as f64) / 7.0),
            4 => json!(self.tricky_text(6)),
            5 => json!("true"),
            6 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => {
                let keys = [
                    "id",
                    "account",
                    "content",
                    "media_attachments",
                    "meta",
                    "original",
                    "width",
                    "poll",
                    "options",
                    "reblog",
                    "emojis",
                    "card",
                    "params",
                    "source",
                ];
                Value::Object(
                    (0..self.below(5))
                        .map(|_| {
                            (
                                keys[self.below(keys.len())].to_string(),
                                self.value(depth + 1),
                            )
                        })
                        .collect(),
                )
            }
        }
    }
}

fn iterations() -> usize {
    std::env::var("KOSHA_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// A status with every field a server may send, to be mutated.
fn full_status() -> Value {
    let account = json!({"id": "1", "username": "a", "acct": "a", "display_name": "", "followers_count": -1,
        "emojis": [{"shortcode": "k", "url": "u"}], "fields": [{"name": "n", "value": "v"}], "moved": {"id": "2"},
        "source": {"privacy": "public", "sensitive": "true", "fields": []}, "role": {"id": 1, "name": "r"}});
    json!({"id": "10", "uri": "u", "created_at": "2026-08-01T13:50:00Z", "account": account, "content": null,
        "visibility": "local", "media_attachments": [{"id": "m", "type": "image", "meta": {"original": {"width": 1, "height": "2"}, "focus": {"x": 0.5, "y": -0.5}}},
            {"id": "n", "type": "unknown", "meta": {"width": 3}}],
        "mentions": [{"id": "1", "acct": "a"}], "tags": [{"name": "t", "history": [{"day": "1", "uses": "2", "accounts": 3}]}],
        "card": {"url": "u", "width": "400", "type": "video"}, "poll": {"id": "p", "options": [{"title": "a", "votes_count": null}], "own_votes": [0, -1, 9999999999u64]},
        "reblog": {"id": "11", "account": {"id": "3"}}, "application": {"name": "app"},
        "scheduled_at": "2999-01-01T00:00:00Z", "params": {"text": "x", "in_reply_to_id": 12345678901234567890u64, "media_ids": [1, "2"], "poll": {"options": ["a"]}}})
}

/// Replaces, removes or adds values at random places of a document.
fn mutate(rng: &mut Rng, value: &mut Value) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(rng.below(map.len()))
                .cloned()
                .unwrap_or_default();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(key, rng.value(0));
                }
                _ => mutate(rng, map.get_mut(&key).expect("present")),
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.below(items.len());
            if rng.below(3) == 0 {
                items[i] = rng.value(0);
            } else {
                mutate(rng, &mut items[i]);
            }
        }
        other => *other = rng.value(0),
    }
}

/// Runs every decoder on one body; the result does not matter, a panic does.
fn decode_all(body: &[u8]) {
    let _ = entities::one(body, "account", entities::account);
    let _ = entities::one(body, "account", entities::credential_account);
    let _ = entities::one(body, "status", entities::status);
    let _ = entities::one(body, "scheduled status", entities::scheduled_status);
    let _ = entities::one(body, "tag", entities::tag);
    let _ = entities::one(body, "media", entities::media_attachment);
    let _ = entities::many(body, "statuses", entities::status);
    let _ = entities::many(body, "accounts", entities::account);
    for status in [200, 302, 401, 422, 429, 502, 599] {
        let _ = errors::from_status(status, &vec![], body);
    }
}

#[test]
fn arbitrary_bytes_never_panic_the_decoders() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..iterations() {
        decode_all(&rng.bytes(300));
    }
}

#[test]
fn mutated_entities_decode_or_fail_cleanly() {
    let mut rng = Rng(0x5eed_0002);
    let original = full_status();
    assert!(
        entities::status(&original).is_some(),
        "the unmutated sample decodes"
    );
    for _ in 0..iterations() {
        let mut doc = original.clone();
        for _ in 0..=rng.below(6) {
            mutate(&mut rng, &mut doc);
        }
        let body = serde_json::to_vec(&doc).expect("serializes");
        decode_all(&body);
        let list = serde_json::to_vec(&json!([doc, original])).expect("serializes");
        let statuses = entities::many(&list, "statuses", entities::status).expect("a list decodes");
        assert!(
            !statuses.is_empty(),
            "the intact element survives its broken neighbour"
        );
    }
}

#[test]
fn arbitrary_headers_never_panic_the_parsers() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..iterations() {
        let headers: headers::Headers = (0..rng.below(4))
            .map(|_| {
                let name = [
                    "link",
                    "x-ratelimit-reset",
                    "x-ratelimit-limit",
                    "x-ratelimit-remaining",
                    "location",
                ][rng.below(5)];
                let value = if rng.below(2) == 0 {
                    rng.tricky_text(30)
                } else {
                    String::from_utf8_lossy(&rng.bytes(60)).into_owned()
                };
                (name.to_string(), value)
            })
            .collect();
        let _ = headers::page_links(&headers);
        let _ = headers::rate_limit(&headers);
        let _ = errors::from_status(429, &headers, b"");
        let _ = errors::from_status(301, &headers, b"");
    }
}

#[test]
fn a_huge_list_is_refused_before_it_is_decoded() {
    let item = r#"{"id":"1","account":{"id":"1"}},"#;
    let body = format!("[{}{{}}]", item.repeat(entities::MAX_ITEMS + 1));
    assert!(
        matches!(entities::many(body.as_bytes(), "statuses", entities::status), Err(crate::types::Error::UndecodableResponse(m)) if m.contains("more than"))
    );
}
