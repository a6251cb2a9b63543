//! Entities as JSON, in the shapes of Mastodon 4.x, with each flavor's quirks.
//!
//! Quirks by flavor (applied here only, so the data stays flavor-neutral):
//! - Mastodon: `last_status_at` is a date only.
//! - GoToSocial, Pleroma, Pixelfed: `last_status_at` is a full datetime.
//! - Pleroma: no `source.privacy`; extra `pleroma` objects on accounts,
//!   statuses and media.
//! - Pixelfed: `content: null` on statuses with media; media `meta` flat
//!   (even ids) or missing (odd ids); card `width` a string;
//!   `source.sensitive` the string "true"; dave's counts -1; account
//!   `created_at` and odd statuses' `created_at` with six fractional digits
//!   and no `Z`.

use serde_json::{json, Map, Value};

use super::clock;
use super::data::{self, Account, Data, Media, Status};
use super::Flavor;

pub struct Ctx<'a> {
    pub data: &'a Data,
    /// `http://127.0.0.1:PORT`, for entity URLs.
    pub base: &'a str,
    /// The authenticated user, if any: adds relationship fields.
    pub viewer: Option<u64>,
}

impl Ctx<'_> {
    fn flavor(&self) -> Flavor {
        self.data.flavor
    }

    fn id(&self, seq: u64) -> String {
        self.data.id(seq)
    }

    /// A timestamp; `quirky` ones use Pixelfed's zone-less microsecond form there.
    fn stamp(&self, ms: i64, quirky: bool) -> String {
        if quirky && self.flavor() == Flavor::Pixelfed {
            clock::datetime_micros_no_zone(ms)
        } else {
            clock::datetime(ms)
        }
    }

    /// Profile page and ActivityPub id of an account.
    fn account_urls(&self, a: &Account) -> (String, String) {
        let host = match &a.domain {
            Some(domain) => format!("https://{domain}"),
            None => self.base.to_string(),
        };
        (
            format!("{host}/@{}", a.username),
            format!("{host}/users/{}", a.username),
        )
    }

    pub fn account(&self, a: &Account) -> Value {
        let (url, uri) = self.account_urls(a);
        let hidden_count = a.hides_network && self.flavor() == Flavor::Pixelfed;
        let count = |n: usize| if hidden_count { -1 } else { n as i64 };
        let last_status_at = self
            .data
            .last_status_ms(a.seq)
            .map(|ms| match self.flavor() {
                Flavor::Mastodon => clock::date(ms),
                _ => clock::datetime(ms),
            });
        let avatar = format!("{}/avatars/{}.png", self.base, a.username);
        let header = format!("{}/headers/{}.png", self.base, a.username);
        let mut v = json!({
            "id": self.id(a.seq),
            "username": a.username,
            "acct": a.acct(),
            "display_name": a.display_name,
            "locked": a.locked,
            "bot": a.bot,
            "discoverable": a.discoverable,
            "indexable": a.discoverable,
            "group": a.group,
            "created_at": self.stamp(a.created_ms, true),
            "note": format!("<p>{}</p>", escape(&a.note)),
            "url": url,
            "uri": uri,
            "avatar": avatar,
            "avatar_static": avatar,
            "header": header,
            "header_static": header,
            "followers_count": count(self.data.followers_count(a.seq)),
            "following_count": count(self.data.following_count(a.seq)),
            "statuses_count": self.data.statuses_count(a.seq),
            "last_status_at": last_status_at,
            "hide_collections": a.hides_network,
            "noindex": false,
            "emojis": a.emojis.iter().map(|c| self.emoji(c)).collect::<Vec<_>>(),
            "roles": [],
            "fields": a.fields.iter().map(|f| json!({
                "name": f.name,
                "value": f.value,
                "verified_at": f.verified.then(|| clock::datetime(a.created_ms)),
            })).collect::<Vec<_>>(),
        });
        let obj = v.as_object_mut().expect("object");
        if let Some(target) = a.moved_to.and_then(|seq| self.data.account(seq)) {
            obj.insert("moved".into(), self.account(target));
        }
        if a.suspended {
            // Mastodon blanks suspended profiles and flags them.
            obj.insert("suspended".into(), json!(true));
            obj.insert("note".into(), json!(""));
            obj.insert("fields".into(), json!([]));
        }
        if self.flavor() == Flavor::Pleroma {
            obj.insert(
                "pleroma".into(),
                json!({
                    "ap_id": uri,
                    "is_admin": false,
                    "is_moderator": false,
                    "hide_followers": a.hides_network,
                    "hide_follows": a.hides_network,
                    "tags": [],
                    "relationship": {},
                }),
            );
        }
        v
    }

    /// Account + `source` + `role` (verify_credentials).
    pub fn credential_account(&self, a: &Account) -> Value {
        let mut v = self.account(a);
        let mut source = Map::new();
        if self.flavor() != Flavor::Pleroma {
            source.insert("privacy".into(), json!("public"));
        }
        let sensitive = if self.flavor() == Flavor::Pixelfed {
            json!("true")
        } else {
            json!(false)
        };
        source.insert("sensitive".into(), sensitive);
        // Mastodon 4.6 sends null when the user never chose a language.
        source.insert("language".into(), Value::Null);
        source.insert("note".into(), json!(a.note));
        let fields: Vec<Value> = a
            .fields
            .iter()
            .map(|f| json!({"name": f.name, "value": strip_tags(&f.value), "verified_at": null}))
            .collect();
        source.insert("fields".into(), json!(fields));
        source.insert("follow_requests_count".into(), json!(2));
        let obj = v.as_object_mut().expect("object");
        obj.insert("source".into(), Value::Object(source));
        obj.insert("role".into(), json!({"id": "-99", "name": "", "color": "", "permissions": "65536", "highlighted": false}));
        v
    }

    pub fn status(&self, s: &Status) -> Value {
        let mut v = self.status_fields(s);
        let reblog = s
            .reblog_of
            .and_then(|seq| self.data.status(seq))
            .map(|r| self.status_fields(r));
        let obj = v.as_object_mut().expect("object");
        if reblog.is_some() {
            obj.insert("url".into(), Value::Null);
            obj.insert(
                "uri".into(),
                json!(format!("{}/activity", obj["uri"].as_str().unwrap_or(""))),
            );
        }
        obj.insert("reblog".into(), reblog.unwrap_or(Value::Null));
        v
    }

    /// Everything but `reblog` (which a nested status has as null).
    fn status_fields(&self, s: &Status) -> Value {
        let author = self.data.account(s.author).expect("status author exists");
        let (account_url, account_uri) = self.account_urls(author);
        let id = self.id(s.seq);
        let pixelfed_null = self.flavor() == Flavor::Pixelfed && !s.media.is_empty();
        let content = if s.reblog_of.is_some() {
            json!("")
        } else if pixelfed_null {
            Value::Null
        } else {
            json!(format!("<p>{}</p>", escape(&s.text)))
        };
        let in_reply_to_account = s
            .in_reply_to
            .and_then(|r| self.data.status(r))
            .map(|r| self.id(r.author));
        let mut v = json!({
            "id": id,
            "uri": format!("{account_uri}/statuses/{id}"),
            "url": format!("{account_url}/{id}"),
            "created_at": self.stamp(s.created_ms, s.seq % 2 == 1),
            "account": self.account(author),
            "content": content,
            "visibility": s.visibility,
            "sensitive": s.sensitive,
            "spoiler_text": s.spoiler_text,
            "media_attachments": s.media.iter().filter_map(|m| self.data.media(*m)).map(|m| self.media(m)).collect::<Vec<_>>(),
            "application": s.application.as_ref().map(|name| json!({"name": name, "website": "https://kosha.example"})),
            "mentions": s.mentions.iter().filter_map(|m| self.data.account(*m)).map(|m| self.mention(m)).collect::<Vec<_>>(),
            "tags": s.tags.iter().map(|t| json!({"name": t, "url": format!("{}/tags/{t}", self.base)})).collect::<Vec<_>>(),
            "emojis": s.emojis.iter().map(|c| self.emoji(c)).collect::<Vec<_>>(),
            "reblogs_count": s.reblogs_count,
            "favourites_count": s.favourites_count,
            "replies_count": s.replies_count,
            "in_reply_to_id": s.in_reply_to.map(|r| self.id(r)),
            "in_reply_to_account_id": in_reply_to_account,
            "reblog": null,
            "poll": s.poll.as_ref().map(|p| self.poll(p)),
            "card": s.card.as_ref().map(|c| self.card(c)),
            "language": s.language,
            "edited_at": s.edited_ms.map(clock::datetime),
        });
        let obj = v.as_object_mut().expect("object");
        if self.viewer.is_some() {
            let own = self.viewer == Some(s.author);
            obj.insert("favourited".into(), json!(s.favourited));
            obj.insert("reblogged".into(), json!(self.viewer_reblogged(s)));
            obj.insert("muted".into(), json!(false));
            obj.insert("bookmarked".into(), json!(s.bookmarked));
            obj.insert("pinned".into(), json!(own && s.pinned));
        }
        if self.flavor() == Flavor::Pleroma {
            obj.insert(
                "pleroma".into(),
                json!({
                    "local": author.domain.is_none(),
                    "conversation_id": s.seq,
                    "content": {"text/plain": s.text},
                    "spoiler_text": {"text/plain": s.spoiler_text},
                    "expires_at": null,
                    "thread_muted": false,
                    "emoji_reactions": [],
                    "parent_visible": s.in_reply_to.is_some(),
                    "pinned_at": null,
                }),
            );
        }
        v
    }

    fn viewer_reblogged(&self, s: &Status) -> bool {
        self.data
            .statuses
            .iter()
            .any(|r| r.reblog_of == Some(s.seq) && Some(r.author) == self.viewer)
    }

    fn mention(&self, a: &Account) -> Value {
        json!({"id": self.id(a.seq), "username": a.username, "url": self.account_urls(a).0, "acct": a.acct()})
    }

    fn emoji(&self, shortcode: &str) -> Value {
        let url = format!("{}/emoji/{shortcode}.png", self.base);
        json!({"shortcode": shortcode, "url": url, "static_url": url, "visible_in_picker": true, "category": null})
    }

    pub fn media(&self, m: &Media) -> Value {
        let id = self.id(m.seq);
        let ext = if m.kind == "video" { "mp4" } else { "png" };
        let mut v = json!({
            "id": id,
            "type": m.kind,
            "url": format!("{}/media/original/{id}.{ext}", self.base),
            "preview_url": format!("{}/media/small/{id}.png", self.base),
            "remote_url": null,
            "preview_remote_url": null,
            "text_url": null,
            "description": m.description,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        });
        let obj = v.as_object_mut().expect("object");
        match self.flavor() {
            Flavor::Pixelfed if m.seq % 2 == 1 => {} // no meta at all
            Flavor::Pixelfed => {
                obj.insert("meta".into(), json!({"width": m.width, "height": m.height}));
            }
            _ => {
                obj.insert("meta".into(), self.media_meta(m));
            }
        }
        if self.flavor() == Flavor::Pleroma {
            obj.insert(
                "pleroma".into(),
                json!({"mime_type": if m.kind == "video" { "video/mp4" } else { "image/png" }}),
            );
        }
        v
    }

    fn media_meta(&self, m: &Media) -> Value {
        let size = |w: u32, h: u32| json!({"width": w, "height": h, "size": format!("{w}x{h}"), "aspect": w as f64 / h as f64});
        let mut meta = json!({
            "original": size(m.width, m.height),
            "small": size(m.width / 4, m.height / 4),
            "focus": {"x": 0.0, "y": 0.0},
        });
        if m.kind == "video" {
            meta["original"]["duration"] = json!(12.5);
            meta["original"]["frame_rate"] = json!("30/1");
            meta["length"] = json!("0:00:12.50");
            meta["duration"] = json!(12.5);
        }
        meta
    }

    fn poll(&self, p: &data::Poll) -> Value {
        let expired = p.expires_ms.is_some_and(|ms| ms <= clock::now_ms());
        let hide = p.hide_totals && !expired;
        let options: Vec<Value> = p
            .options
            .iter()
            .map(|(title, votes)| json!({"title": title, "votes_count": if hide { Value::Null } else { json!(votes) }}))
            .collect();
        let mut v = json!({
            "id": self.id(p.seq),
            "expires_at": p.expires_ms.map(clock::datetime),
            "expired": expired,
            "multiple": p.multiple,
            "votes_count": p.options.iter().map(|(_, n)| n).sum::<u64>(),
            "voters_count": if p.multiple { json!(p.voters) } else { Value::Null },
            "options": options,
            "emojis": [],
        });
        if self.viewer.is_some() {
            v["voted"] = json!(!p.own_votes.is_empty());
            v["own_votes"] = json!(p.own_votes);
        }
        v
    }

    fn card(&self, c: &data::Card) -> Value {
        let width = if self.flavor() == Flavor::Pixelfed {
            json!("400")
        } else {
            json!(400)
        };
        json!({
            "url": c.url,
            "title": c.title,
            "description": c.description,
            "type": "link",
            "author_name": "",
            "author_url": "",
            "provider_name": c.provider,
            "provider_url": "",
            "html": "",
            "width": width,
            "height": 200,
            "image": format!("{}/cards/preview.png", self.base),
            "image_description": "",
            "embed_url": "",
            "blurhash": null,
            "language": "en",
        })
    }

    /// A hashtag; search results carry a week of history (strings, newest day first).
    pub fn tag(&self, name: &str, uses: usize, with_history: bool) -> Value {
        let mut v = json!({"name": name, "url": format!("{}/tags/{name}", self.base)});
        if with_history {
            let today = clock::now_ms().div_euclid(clock::DAY_MS);
            let history: Vec<Value> = (0..7)
                .map(|back| {
                    let day_secs = (today - back) * 86_400;
                    let n = if back == 0 { uses } else { uses / (back as usize + 1) };
                    json!({"day": day_secs.to_string(), "uses": n.to_string(), "accounts": n.min(3).to_string()})
                })
                .collect();
            v["history"] = json!(history);
            if self.viewer.is_some() {
                v["following"] = json!(name == "rust");
            }
        }
        v
    }
}

/// HTML-escapes text for `<p>` content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text of a simple HTML value (profile fields in `source`; the demo's
/// one-line summaries).
pub fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
