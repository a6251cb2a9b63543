//! `POST /api/v1/statuses`: parameters (JSON or form), validation,
//! idempotency, publishing and scheduling.

use serde_json::{json, Value};

use super::clock;
use super::data::{Poll, Scheduled, Status};
use super::http::{self, Response};
use super::routes::{truthy, App, Call};
use super::Flavor;

const MAX_CHARS: usize = 500;
const MAX_MEDIA: usize = 4;
const MAX_POLL_OPTIONS: usize = 4;
const MIN_SCHEDULE_AHEAD_MS: i64 = 5 * 60 * 1000;

/// The parameters of a new status, however they were sent.
#[derive(Default, Debug)]
struct NewStatus {
    text: Option<String>,
    media_ids: Vec<String>,
    poll: Option<NewPoll>,
    in_reply_to_id: Option<String>,
    sensitive: bool,
    spoiler_text: Option<String>,
    visibility: Option<String>,
    language: Option<String>,
    scheduled_at: Option<String>,
}

#[derive(Default, Debug)]
struct NewPoll {
    options: Vec<String>,
    expires_in: Option<i64>,
    multiple: bool,
    hide_totals: bool,
}

fn validation(message: &str) -> Response {
    Response::error(422, &format!("Validation failed: {message}"))
}

impl App {
    pub fn post_status(&mut self, call: &Call) -> Result<Response, Response> {
        let user = call.require_write_user()?;
        let key = call.req.header("idempotency-key").map(str::to_string);
        let slot = key.map(|k| (call.token.clone().unwrap_or_default(), k));
        // A repeated key answers with the first result and creates nothing.
        if let Some((status, body)) = slot.as_ref().and_then(|s| self.idempotency.get(s)) {
            return Ok(Response::raw_json(*status, body.clone()));
        }
        let params = parse(call)?;
        self.validate(user, &params)?;
        let body = match &params.scheduled_at {
            Some(at) => self.schedule(&params, at, slot.as_ref().map(|s| s.1.as_str()))?,
            None => self.publish(call, user, params),
        };
        if let Some(slot) = slot {
            self.idempotency.insert(slot, (200, body.clone()));
        }
        Ok(Response::raw_json(200, body))
    }

    fn validate(&self, user: u64, p: &NewStatus) -> Result<(), Response> {
        let text = p.text.as_deref().unwrap_or("").trim();
        if text.is_empty() && p.media_ids.is_empty() {
            return Err(validation("Text can't be blank"));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(validation(&format!(
                "Text character limit of {MAX_CHARS} exceeded"
            )));
        }
        if p.media_ids.len() > MAX_MEDIA {
            return Err(validation(&format!(
                "Media attachments can't be more than {MAX_MEDIA}"
            )));
        }
        let unknown: Vec<&str> = p
            .media_ids
            .iter()
            .filter(|id| !self.owns_media(user, id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(validation(&format!(
                "Media attachments not found: {}",
                unknown.join(", ")
            )));
        }
        if let Some(poll) = &p.poll {
            validate_poll(poll, !p.media_ids.is_empty())?;
        }
        if let Some(v) = &p.visibility {
            let local_ok = self.data.flavor == Flavor::Pleroma && v == "local";
            if !matches!(v.as_str(), "public" | "unlisted" | "private" | "direct") && !local_ok {
                return Err(validation("Visibility is not included in the list"));
            }
        }
        if let Some(reply) = &p.in_reply_to_id {
            if self
                .data
                .status_by_id(reply)
                .is_none_or(|s| !self.data.visible(s, Some(user)))
            {
                return Err(Response::error(404, "Record not found"));
            }
        }
        if let Some(at) = &p.scheduled_at {
            let Some(ms) = clock::parse_rfc3339(at) else {
                return Err(validation("Scheduled at is invalid"));
            };
            if ms < clock::now_ms() + MIN_SCHEDULE_AHEAD_MS {
                return Err(validation(
                    "Scheduled at The scheduled date must be in the future",
                ));
            }
        }
        Ok(())
    }

    fn owns_media(&self, user: u64, id: &str) -> bool {
        super::ids::exact(self.data.flavor, id)
            .and_then(|seq| self.data.media(seq))
            .is_some_and(|m| m.owner == user)
    }

    /// Creates the status and answers it (with the `text` source, as
    /// Mastodon does in create responses).
    fn publish(&mut self, call: &Call, user: u64, p: NewStatus) -> String {
        let now = clock::now_ms();
        let seq = self.data.next_status_seq();
        let text = p.text.unwrap_or_default();
        let mut status = Status::new(seq, user, now, &text);
        status.visibility = p.visibility.unwrap_or_else(|| "public".into());
        status.spoiler_text = p.spoiler_text.unwrap_or_default();
        // A content warning implies sensitive media, as in Mastodon.
        status.sensitive = p.sensitive || !status.spoiler_text.is_empty();
        status.language = Some(p.language.unwrap_or_else(|| "en".into()));
        status.application = Some("Kosha".into());
        status.media = p
            .media_ids
            .iter()
            .filter_map(|id| super::ids::exact(self.data.flavor, id))
            .collect();
        status.mentions = self.mentions(call, &text);
        status.in_reply_to = p
            .in_reply_to_id
            .as_deref()
            .and_then(|id| super::ids::exact(self.data.flavor, id));
        if let Some(poll) = p.poll {
            status.poll = Some(Poll {
                seq: self.data.next_poll_seq(),
                options: poll.options.into_iter().map(|o| (o, 0)).collect(),
                expires_ms: Some(now + poll.expires_in.unwrap_or(0) * 1000),
                multiple: poll.multiple,
                hide_totals: poll.hide_totals,
                voters: 0,
                own_votes: Vec::new(),
            });
        }
        if let Some(target) = status.in_reply_to {
            if let Some(i) = self.data.statuses.iter().position(|s| s.seq == target) {
                self.data.statuses[i].replies_count += 1;
            }
        }
        self.data.statuses.push(status);
        let ctx = self.ctx(call);
        let mut json = ctx.status(self.data.statuses.last().expect("just pushed"));
        json["text"] = json!(text);
        json.to_string()
    }

    /// Accounts `@user` / `@user@domain` mentioned in a text, if known.
    fn mentions(&self, call: &Call, text: &str) -> Vec<u64> {
        let domains = self.local_domains(call.req);
        let mut found = Vec::new();
        for word in text.split_whitespace().filter_map(|w| w.strip_prefix('@')) {
            let acct = word.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
            if let Some(a) = self.data.account_by_acct(acct, &domains) {
                if !found.contains(&a.seq) {
                    found.push(a.seq);
                }
            }
        }
        found
    }

    /// Stores and answers a ScheduledStatus. Built as text because the
    /// Mastodon flavor repeats the `idempotency` key inside `params`, as
    /// Mastodon 4.6 was seen doing, and ids inside `params` are JSON numbers.
    fn schedule(
        &mut self,
        p: &NewStatus,
        at: &str,
        idempotency: Option<&str>,
    ) -> Result<String, Response> {
        let at_ms =
            clock::parse_rfc3339(at).ok_or_else(|| validation("Scheduled at is invalid"))?;
        let seq = self.data.next_scheduled_seq();
        let flavor = self.data.flavor;
        let media_seqs: Vec<u64> = p
            .media_ids
            .iter()
            .filter_map(|id| super::ids::exact(flavor, id))
            .collect();
        let poll = p.poll.as_ref().map(|poll| {
            json!({
                "options": poll.options,
                "expires_in": poll.expires_in.map(|e| e.to_string()),
                "multiple": poll.multiple,
                "hide_totals": poll.hide_totals,
            })
        });
        let media_ids = if p.media_ids.is_empty() {
            Value::Null
        } else {
            json!(p.media_ids)
        };
        let mut params: Vec<(&str, String)> = vec![
            ("poll", json!(poll).to_string()),
            (
                "text",
                json!(p.text.clone().unwrap_or_default()).to_string(),
            ),
            (
                "language",
                json!(p.language.clone().unwrap_or_else(|| "en".into())).to_string(),
            ),
            ("media_ids", media_ids.to_string()),
            ("sensitive", json!(p.sensitive).to_string()),
            (
                "visibility",
                json!(p.visibility.clone().unwrap_or_else(|| "public".into())).to_string(),
            ),
            ("idempotency", json!(idempotency).to_string()),
            ("scheduled_at", "null".into()),
            (
                "spoiler_text",
                json!(p.spoiler_text.clone().unwrap_or_default()).to_string(),
            ),
            (
                "application_id",
                number_or_string(&self.data.id(109_000_000_123_456)),
            ),
            (
                "in_reply_to_id",
                p.in_reply_to_id
                    .as_deref()
                    .map_or("null".into(), number_or_string),
            ),
            ("with_rate_limit", "false".into()),
        ];
        if flavor == Flavor::Mastodon {
            params.push(("idempotency", json!(idempotency).to_string()));
        }
        let params_text: Vec<String> = params.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let ctx = super::render::Ctx {
            data: &self.data,
            base: &self.base_url,
            viewer: None,
        };
        let media: Vec<String> = media_seqs
            .iter()
            .filter_map(|m| self.data.media(*m))
            .map(|m| ctx.media(m).to_string())
            .collect();
        let body = format!(
            "{{\"id\":{},\"scheduled_at\":{},\"params\":{{{}}},\"media_attachments\":[{}]}}",
            json!(self.data.id(seq)),
            json!(clock::datetime(at_ms)),
            params_text.join(","),
            media.join(",")
        );
        self.data.scheduled.push(Scheduled {
            seq,
            json: body.clone(),
        });
        Ok(body)
    }
}

/// A numeric id as a bare JSON number (possibly above 2^53); other ids as strings.
fn number_or_string(id: &str) -> String {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        id.to_string()
    } else {
        json!(id).to_string()
    }
}

fn validate_poll(poll: &NewPoll, has_media: bool) -> Result<(), Response> {
    if has_media {
        return Err(validation(
            "Media attachments can't be combined with a poll",
        ));
    }
    if poll.options.len() < 2 {
        return Err(validation("Poll options must have at least 2 items"));
    }
    if poll.options.len() > MAX_POLL_OPTIONS {
        return Err(validation(&format!(
            "Poll options must have at most {MAX_POLL_OPTIONS} items"
        )));
    }
    if poll.options.iter().any(|o| o.trim().is_empty()) {
        return Err(validation("Poll options can't be blank"));
    }
    match poll.expires_in {
        None => Err(validation("Poll expires at can't be blank")),
        Some(s) if s <= 0 => Err(validation("Poll expires at must be in the future")),
        Some(_) => Ok(()),
    }
}

/// Reads the parameters from a JSON body, or from a form body plus the query
/// string (Rails merges all of them).
fn parse(call: &Call) -> Result<NewStatus, Response> {
    let content_type = call
        .req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") {
        let value: Value = serde_json::from_slice(&call.req.body)
            .map_err(|_| Response::error(400, "Error occurred while parsing request parameters"))?;
        let Value::Object(_) = value else {
            return Err(Response::error(
                400,
                "Error occurred while parsing request parameters",
            ));
        };
        return Ok(from_json(&value));
    }
    let mut pairs = call.req.query.clone();
    if content_type.is_empty() || content_type.contains("x-www-form-urlencoded") {
        pairs.extend(http::parse_form(&String::from_utf8_lossy(&call.req.body)));
    }
    Ok(from_pairs(&pairs))
}

fn from_json(v: &Value) -> NewStatus {
    let poll = v.get("poll").filter(|p| p.is_object()).map(|p| NewPoll {
        options: p
            .get("options")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(json_string).collect())
            .unwrap_or_default(),
        expires_in: p
            .get("expires_in")
            .and_then(json_string)
            .and_then(|s| s.trim().parse().ok()),
        multiple: p.get("multiple").is_some_and(json_bool),
        hide_totals: p.get("hide_totals").is_some_and(json_bool),
    });
    let text = |key: &str| v.get(key).and_then(json_string);
    NewStatus {
        text: text("status"),
        media_ids: v
            .get("media_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(json_string).collect())
            .unwrap_or_default(),
        poll,
        in_reply_to_id: text("in_reply_to_id").filter(|s| !s.is_empty()),
        sensitive: v.get("sensitive").is_some_and(json_bool),
        spoiler_text: text("spoiler_text"),
        visibility: text("visibility").filter(|s| !s.is_empty()),
        language: text("language").filter(|s| !s.is_empty()),
        scheduled_at: text("scheduled_at").filter(|s| !s.is_empty()),
    }
}

/// Strings and numbers as text; null and others as absent.
fn json_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_bool(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => truthy(s),
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

fn from_pairs(pairs: &[(String, String)]) -> NewStatus {
    let one = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let many = |key: &str| -> Vec<String> {
        let array_key = format!("{key}[]");
        pairs
            .iter()
            .filter(|(k, _)| *k == array_key || k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let has_poll = pairs.iter().any(|(k, _)| k.starts_with("poll["));
    let poll = has_poll.then(|| NewPoll {
        options: many("poll[options]"),
        expires_in: one("poll[expires_in]").and_then(|s| s.trim().parse().ok()),
        multiple: one("poll[multiple]").is_some_and(|v| truthy(&v)),
        hide_totals: one("poll[hide_totals]").is_some_and(|v| truthy(&v)),
    });
    let non_empty = |key: &str| one(key).filter(|s| !s.is_empty());
    NewStatus {
        text: one("status"),
        media_ids: many("media_ids"),
        poll,
        in_reply_to_id: non_empty("in_reply_to_id"),
        sensitive: one("sensitive").is_some_and(|v| truthy(&v)),
        spoiler_text: one("spoiler_text"),
        visibility: non_empty("visibility"),
        language: non_empty("language"),
        scheduled_at: non_empty("scheduled_at"),
    }
}
