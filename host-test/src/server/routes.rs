//! Routing, authentication, pagination and the read endpoints.
//! `POST /api/v1/statuses` lives in `post.rs`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::clock;
use super::data::{self, Account, Data, Status};
use super::http::{self, Request, Response};
use super::render::Ctx;
use super::{Flavor, APP_TOKEN, BOB_TOKEN, DISABLED_TOKEN, READ_ONLY_TOKEN, USER_TOKEN};

const RATE_LIMIT: u32 = 300;
const RATE_WINDOW_MS: i64 = 5 * 60 * 1000;

/// The server's data and per-server bookkeeping.
pub struct App {
    pub data: Data,
    /// `http://127.0.0.1:PORT`, used in entity URLs.
    pub base_url: String,
    pub home_rebuilding: bool,
    /// (token, Idempotency-Key) -> the first answer's status and body.
    pub idempotency: HashMap<(String, String), (u16, String)>,
    /// Remaining requests per token ("" = anonymous); never refilled, so
    /// tests see it decrease steadily.
    rate_remaining: HashMap<String, u32>,
}

/// Who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    User {
        account: u64,
        write: bool,
    },
    /// A client-credentials token: no user behind it.
    AppOnly,
    /// A user whose login is disabled.
    Disabled,
}

/// One request with its authentication, as handlers see it.
pub struct Call<'r> {
    pub req: &'r Request,
    pub auth: Auth,
    pub token: Option<String>,
}

impl Call<'_> {
    /// The user whose view relationship fields and visibility use.
    pub fn viewer(&self) -> Option<u64> {
        match self.auth {
            Auth::User { account, .. } => Some(account),
            _ => None,
        }
    }

    /// Mastodon's `require_user!`.
    pub fn require_user(&self) -> Result<u64, Response> {
        match self.auth {
            Auth::User { account, .. } => Ok(account),
            Auth::Anonymous => Err(invalid_token()),
            Auth::AppOnly => Err(Response::error(
                422,
                "This method requires an authenticated user",
            )),
            Auth::Disabled => Err(Response::error(403, "Your login is currently disabled")),
        }
    }

    /// The `write` scope check (403) comes before the user check, as in Mastodon.
    pub fn require_write_user(&self) -> Result<u64, Response> {
        if let Auth::User { write: false, .. } = self.auth {
            return Err(Response::error(403, "This action is outside the authorized scopes")
                .with_header("WWW-Authenticate", "Bearer realm=\"Doorkeeper\", error=\"insufficient_scope\", error_description=\"The request requires higher privileges than provided by the access token.\""));
        }
        self.require_user()
    }

    pub fn flag(&self, key: &str) -> bool {
        self.req.query_value(key).is_some_and(truthy)
    }
}

/// Form and query booleans as Rails reads them.
pub fn truthy(value: &str) -> bool {
    matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "1" | "on" | "yes" | "t"
    )
}

pub fn invalid_token() -> Response {
    Response::error(401, "The access token is invalid").with_header(
        "WWW-Authenticate",
        "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
    )
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn authenticate(token: Option<&str>) -> Result<Auth, Response> {
    match token {
        None => Ok(Auth::Anonymous),
        Some(USER_TOKEN) => Ok(Auth::User {
            account: data::ALICE,
            write: true,
        }),
        Some(READ_ONLY_TOKEN) => Ok(Auth::User {
            account: data::ALICE,
            write: false,
        }),
        Some(BOB_TOKEN) => Ok(Auth::User {
            account: data::BOB,
            write: true,
        }),
        Some(APP_TOKEN) => Ok(Auth::AppOnly),
        Some(DISABLED_TOKEN) => Ok(Auth::Disabled),
        // STALE_TOKEN and anything unknown.
        Some(_) => Err(invalid_token()),
    }
}

/// The endpoints this server knows, with their path parameters (still percent-encoded).
enum Endpoint<'p> {
    VerifyCredentials,
    Lookup,
    Account(&'p str),
    AccountStatuses(&'p str),
    Followers(&'p str),
    Following(&'p str),
    PostStatus,
    Status(&'p str),
    Home,
    Public,
    Tag(&'p str),
    List(&'p str),
    Search,
    Instance(u8),
    Lists,
    ScheduledStatuses,
    ScheduledStatus(&'p str),
}

fn endpoint(path: &str) -> Option<(&'static str, Endpoint<'_>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let found = match segments.as_slice() {
        ["api", "v1", "accounts", "verify_credentials"] => ("GET", Endpoint::VerifyCredentials),
        ["api", "v1", "accounts", "lookup"] => ("GET", Endpoint::Lookup),
        ["api", "v1", "accounts", id] => ("GET", Endpoint::Account(id)),
        ["api", "v1", "accounts", id, "statuses"] => ("GET", Endpoint::AccountStatuses(id)),
        ["api", "v1", "accounts", id, "followers"] => ("GET", Endpoint::Followers(id)),
        ["api", "v1", "accounts", id, "following"] => ("GET", Endpoint::Following(id)),
        ["api", "v1", "statuses"] => ("POST", Endpoint::PostStatus),
        ["api", "v1", "statuses", id] => ("GET", Endpoint::Status(id)),
        ["api", "v1", "timelines", "home"] => ("GET", Endpoint::Home),
        ["api", "v1", "timelines", "public"] => ("GET", Endpoint::Public),
        ["api", "v1", "timelines", "tag", tag] => ("GET", Endpoint::Tag(tag)),
        ["api", "v1", "timelines", "list", id] => ("GET", Endpoint::List(id)),
        ["api", "v2", "search"] => ("GET", Endpoint::Search),
        ["api", "v1", "lists"] => ("GET", Endpoint::Lists),
        ["api", "v1", "scheduled_statuses"] => ("GET", Endpoint::ScheduledStatuses),
        ["api", "v1", "scheduled_statuses", id] => ("GET", Endpoint::ScheduledStatus(id)),
        ["api", "v1", "instance"] => ("GET", Endpoint::Instance(1)),
        ["api", "v2", "instance"] => ("GET", Endpoint::Instance(2)),
        _ => return None,
    };
    Some(found)
}

/// Which page of a list was asked for, with cursors decoded to sequence numbers.
pub struct PageRequest {
    max_id: Option<u64>,
    since_id: Option<u64>,
    min_id: Option<u64>,
    pub limit: usize,
}

impl App {
    pub fn new(flavor: Flavor, base_url: String) -> App {
        App {
            data: data::sample(flavor),
            base_url,
            home_rebuilding: false,
            idempotency: HashMap::new(),
            rate_remaining: HashMap::new(),
        }
    }

    fn flavor(&self) -> Flavor {
        self.data.flavor
    }

    /// Answers one request (canned failures are handled by the caller).
    pub fn handle(&mut self, req: &Request) -> Response {
        if self.flavor() == Flavor::GoToSocial && req.header("user-agent").is_none_or(str::is_empty)
        {
            // GoToSocial rejects clients that do not say who they are, before anything else.
            return Response::error(418, "I'm a teapot: no user-agent");
        }
        let token = bearer(req);
        let mut response = match authenticate(token.as_deref()) {
            Ok(auth) => {
                let call = Call {
                    req,
                    auth,
                    token: token.clone(),
                };
                self.route(&call).unwrap_or_else(|error| error)
            }
            Err(error) => error,
        };
        self.add_rate_headers(&mut response, token.as_deref().unwrap_or(""));
        response
    }

    fn route(&mut self, call: &Call) -> Result<Response, Response> {
        let Some((method, endpoint)) = endpoint(&call.req.path) else {
            return Err(Response::error(404, "Record not found"));
        };
        if call.req.method != method {
            return Err(Response::error(405, "Method not allowed").with_header("Allow", method));
        }
        match endpoint {
            Endpoint::VerifyCredentials => self.verify_credentials(call),
            Endpoint::Lookup => self.lookup(call),
            Endpoint::Account(id) => self.get_account(call, id),
            Endpoint::AccountStatuses(id) => self.account_statuses(call, id),
            Endpoint::Followers(id) => self.follow_list(call, id, true),
            Endpoint::Following(id) => self.follow_list(call, id, false),
            Endpoint::PostStatus => self.post_status(call),
            Endpoint::Status(id) => self.get_status(call, id),
            Endpoint::Home => self.home(call),
            Endpoint::Public => self.public(call),
            Endpoint::Tag(tag) => self.tag_timeline(call, &http::percent_decode(tag, false)),
            Endpoint::List(id) => self.list_timeline(call, id),
            Endpoint::Search => self.search(call),
            Endpoint::Instance(version) => Ok(self.instance(call, version)),
            Endpoint::Lists => self.lists(call),
            Endpoint::ScheduledStatuses => self.scheduled_statuses(call, None),
            Endpoint::ScheduledStatus(id) => self.scheduled_statuses(call, Some(id)),
        }
    }

    fn add_rate_headers(&mut self, response: &mut Response, token: &str) {
        let remaining = self
            .rate_remaining
            .entry(token.to_string())
            .or_insert(RATE_LIMIT);
        *remaining = remaining.saturating_sub(1);
        let remaining = *remaining;
        let now = clock::now_ms();
        let reset_ms = (now / RATE_WINDOW_MS + 1) * RATE_WINDOW_MS;
        let reset = match self.flavor() {
            Flavor::GoToSocial => (reset_ms / 1000).to_string(),
            _ => clock::datetime_micros(reset_ms),
        };
        let headers = &mut response.headers;
        headers.push(("X-RateLimit-Limit".into(), RATE_LIMIT.to_string()));
        headers.push(("X-RateLimit-Remaining".into(), remaining.to_string()));
        headers.push(("X-RateLimit-Reset".into(), reset));
    }

    pub fn ctx(&self, call: &Call) -> Ctx<'_> {
        Ctx {
            data: &self.data,
            base: &self.base_url,
            viewer: call.viewer(),
        }
    }

    /// The names this server answers to in `user@domain` (with and without port).
    pub fn local_domains(&self, req: &Request) -> Vec<String> {
        let own = self.base_url.trim_start_matches("http://").to_string();
        let mut domains = vec![own.clone(), "localhost".into(), "127.0.0.1".into()];
        if let Some(host) = req.header("host") {
            domains.push(host.to_string());
            domains.push(host.rsplit_once(':').map_or(host, |(h, _)| h).to_string());
        }
        domains.push(
            own.rsplit_once(':')
                .map_or(own.clone(), |(h, _)| h.to_string()),
        );
        domains
    }

    // ---- accounts -------------------------------------------------------

    fn verify_credentials(&self, call: &Call) -> Result<Response, Response> {
        let user = call.require_user()?;
        let account = self.data.account(user).expect("token owner exists");
        Ok(Response::json(
            200,
            &self.ctx(call).credential_account(account),
        ))
    }

    /// An account by id: 404 unknown, 410 gone.
    fn find_account(&self, id: &str) -> Result<&Account, Response> {
        match self.data.account_by_id(id) {
            None => Err(Response::error(404, "Record not found")),
            Some(a) if a.gone => Err(Response::error(410, "This account is gone")),
            Some(a) => Ok(a),
        }
    }

    fn get_account(&self, call: &Call, id: &str) -> Result<Response, Response> {
        let account = self.find_account(id)?;
        Ok(Response::json(200, &self.ctx(call).account(account)))
    }

    fn lookup(&self, call: &Call) -> Result<Response, Response> {
        let acct = call.req.query_value("acct").unwrap_or("");
        let domains = self.local_domains(call.req);
        match self.data.account_by_acct(acct, &domains) {
            None => Err(Response::error(404, "Record not found")),
            Some(a) if a.gone => Err(Response::error(410, "This account is gone")),
            Some(a) => Ok(Response::json(200, &self.ctx(call).account(a))),
        }
    }

    fn account_statuses(&self, call: &Call, id: &str) -> Result<Response, Response> {
        let account = self.find_account(id)?;
        let page = self.page_request(call.req, 20, 40);
        if account.suspended {
            return Ok(self.status_page(call, 200, &page, Vec::new()));
        }
        let tagged = call
            .req
            .query_value("tagged")
            .map(|t| t.trim_start_matches('#').to_lowercase());
        let (only_media, no_replies, no_reblogs, pinned) = (
            call.flag("only_media"),
            call.flag("exclude_replies"),
            call.flag("exclude_reblogs"),
            call.flag("pinned"),
        );
        let viewer = call.viewer();
        let items = self.newest_first(|s| {
            s.author == account.seq
                && self.data.visible(s, viewer)
                && (!only_media || !s.media.is_empty())
                && (!no_replies || !self.is_reply_to_other(s))
                && (!no_reblogs || s.reblog_of.is_none())
                && (!pinned || s.pinned)
                && tagged.as_ref().is_none_or(|t| s.tags.contains(t))
        });
        Ok(self.status_page(call, 200, &page, items))
    }

    /// Mastodon keeps self-replies (threads) when excluding replies.
    fn is_reply_to_other(&self, s: &Status) -> bool {
        s.in_reply_to
            .and_then(|r| self.data.status(r))
            .is_some_and(|r| r.author != s.author)
    }

    /// Followers (or followings) newest follow first; the cursors are Follow
    /// ids, never account ids.
    fn follow_list(&self, call: &Call, id: &str, followers: bool) -> Result<Response, Response> {
        let account = self.find_account(id)?;
        let page = self.page_request(call.req, 40, 80);
        let hidden = account.hides_network && call.viewer() != Some(account.seq);
        if hidden || account.suspended {
            return Ok(Response::json(200, &json!([])));
        }
        let mut follows: Vec<(u64, u64)> = self
            .data
            .follows
            .iter()
            .filter(|f| {
                if followers {
                    f.followee == account.seq
                } else {
                    f.follower == account.seq
                }
            })
            .map(|f| (f.seq, if followers { f.follower } else { f.followee }))
            .collect();
        follows.sort_by_key(|f| std::cmp::Reverse(f.0));
        let selected = paginate(follows, &page);
        let ctx = self.ctx(call);
        let items: Vec<Value> = selected
            .iter()
            .filter_map(|(_, a)| self.data.account(*a))
            .map(|a| ctx.account(a))
            .collect();
        let cursors: Vec<u64> = selected.iter().map(|(c, _)| *c).collect();
        Ok(self.paged(call.req, 200, &page, items, &cursors))
    }

    // ---- statuses and timelines ------------------------------------------

    fn get_status(&self, call: &Call, id: &str) -> Result<Response, Response> {
        match self.data.status_by_id(id) {
            Some(s) if self.data.visible(s, call.viewer()) => {
                Ok(Response::json(200, &self.ctx(call).status(s)))
            }
            _ => Err(Response::error(404, "Record not found")),
        }
    }

    fn home(&self, call: &Call) -> Result<Response, Response> {
        let user = call.require_user()?;
        let page = self.page_request(call.req, 20, 40);
        let items = self.newest_first(|s| {
            (s.author == user || self.data.follows(user, s.author))
                && self.data.visible(s, Some(user))
        });
        // While the feed is rebuilt Mastodon answers 206 with what it has.
        let status = if self.home_rebuilding { 206 } else { 200 };
        Ok(self.status_page(call, status, &page, items))
    }

    /// Public/local/remote/media filters shared by the public and tag timelines.
    fn public_filter(&self, call: &Call, s: &Status) -> bool {
        let remote = self
            .data
            .account(s.author)
            .is_some_and(|a| a.domain.is_some());
        s.visibility == "public"
            && s.reblog_of.is_none()
            && (!call.flag("local") || !remote)
            && (!call.flag("remote") || remote)
            && (!call.flag("only_media") || !s.media.is_empty())
    }

    fn public(&self, call: &Call) -> Result<Response, Response> {
        let page = self.page_request(call.req, 20, 40);
        let items = self.newest_first(|s| self.public_filter(call, s));
        Ok(self.status_page(call, 200, &page, items))
    }

    fn tag_timeline(&self, call: &Call, tag: &str) -> Result<Response, Response> {
        let page = self.page_request(call.req, 20, 40);
        let lower = |v: Vec<String>| -> Vec<String> {
            v.into_iter()
                .map(|t| t.trim_start_matches('#').to_lowercase())
                .collect()
        };
        let tag = tag.trim_start_matches('#').to_lowercase();
        let any = lower(call.req.query_values("any"));
        let all = lower(call.req.query_values("all"));
        let none = lower(call.req.query_values("none"));
        let items = self.newest_first(|s| {
            let has = |t: &String| s.tags.contains(t);
            (has(&tag) || any.iter().any(has))
                && all.iter().all(has)
                && !none.iter().any(has)
                && self.public_filter(call, s)
        });
        Ok(self.status_page(call, 200, &page, items))
    }

    fn list_timeline(&self, call: &Call, id: &str) -> Result<Response, Response> {
        let user = call.require_user()?;
        let list = super::ids::exact(self.flavor(), id).and_then(|seq| self.data.list(seq));
        let Some(list) = list.filter(|l| l.owner == user) else {
            return Err(Response::error(404, "Record not found"));
        };
        let page = self.page_request(call.req, 20, 40);
        let items = self
            .newest_first(|s| list.members.contains(&s.author) && self.data.visible(s, Some(user)));
        Ok(self.status_page(call, 200, &page, items))
    }

    /// Sequence numbers of matching statuses, newest first.
    fn newest_first(&self, keep: impl Fn(&Status) -> bool) -> Vec<u64> {
        self.data
            .statuses
            .iter()
            .rev()
            .filter(|s| keep(s))
            .map(|s| s.seq)
            .collect()
    }

    fn status_page(
        &self,
        call: &Call,
        status: u16,
        page: &PageRequest,
        seqs: Vec<u64>,
    ) -> Response {
        let selected = paginate(seqs.into_iter().map(|s| (s, ())).collect(), page);
        let cursors: Vec<u64> = selected.iter().map(|(s, _)| *s).collect();
        let ctx = self.ctx(call);
        let items = cursors
            .iter()
            .filter_map(|s| self.data.status(*s))
            .map(|s| ctx.status(s))
            .collect();
        self.paged(call.req, status, page, items, &cursors)
    }

    // ---- search ---------------------------------------------------------

    fn search(&self, call: &Call) -> Result<Response, Response> {
        let q = call.req.query_value("q").unwrap_or("").trim().to_string();
        if q.is_empty() {
            return Err(Response::error(
                400,
                "param is missing or the value is empty: q",
            ));
        }
        if call.flag("resolve") {
            call.require_user()?;
        }
        let kind = call.req.query_value("type");
        let wants = |k: &str| kind.is_none_or(|t| t.is_empty() || t == k);
        let limit = parse_limit(call.req, 20, 40);
        let offset: usize = call
            .req
            .query_value("offset")
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let window =
            |v: Vec<Value>| -> Vec<Value> { v.into_iter().skip(offset).take(limit).collect() };
        let accounts = if wants("accounts") {
            window(self.search_accounts(call, &q))
        } else {
            vec![]
        };
        let statuses = if wants("statuses") {
            window(self.search_statuses(call, &q))
        } else {
            vec![]
        };
        let hashtags = if wants("hashtags") {
            window(self.search_hashtags(call, &q))
        } else {
            vec![]
        };
        Ok(Response::json(
            200,
            &json!({"accounts": accounts, "statuses": statuses, "hashtags": hashtags}),
        ))
    }

    fn search_accounts(&self, call: &Call, q: &str) -> Vec<Value> {
        let needle = q.trim_start_matches('@').to_lowercase();
        let following = call.flag("following");
        let ctx = self.ctx(call);
        self.data
            .accounts
            .iter()
            .filter(|a| !a.gone)
            .filter(|a| {
                [a.username.as_str(), &a.acct(), a.display_name.as_str()]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
            })
            .filter(|a| !following || call.viewer().is_some_and(|v| self.data.follows(v, a.seq)))
            .map(|a| ctx.account(a))
            .collect()
    }

    fn search_statuses(&self, call: &Call, q: &str) -> Vec<Value> {
        let needle = q.to_lowercase();
        let author = call
            .req
            .query_value("account_id")
            .map(|id| super::ids::decode(self.flavor(), id));
        let max_id = call
            .req
            .query_value("max_id")
            .map(|id| self.data.cursor(id));
        let min_id = call
            .req
            .query_value("min_id")
            .map(|id| self.data.cursor(id));
        let ctx = self.ctx(call);
        self.data
            .statuses
            .iter()
            .rev()
            .filter(|s| s.reblog_of.is_none() && self.data.visible(s, call.viewer()))
            .filter(|s| s.text.to_lowercase().contains(&needle))
            .filter(|s| author.is_none_or(|a| s.author == a))
            .filter(|s| max_id.is_none_or(|m| s.seq < m) && min_id.is_none_or(|m| s.seq > m))
            .map(|s| ctx.status(s))
            .collect()
    }

    fn search_hashtags(&self, call: &Call, q: &str) -> Vec<Value> {
        let needle = q.trim_start_matches('#').to_lowercase();
        let mut uses: Vec<(String, usize)> = Vec::new();
        for tag in self.data.statuses.iter().flat_map(|s| s.tags.iter()) {
            match uses.iter_mut().find(|(t, _)| t == tag) {
                Some((_, n)) => *n += 1,
                None => uses.push((tag.clone(), 1)),
            }
        }
        uses.retain(|(t, _)| t.contains(&needle));
        uses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let ctx = self.ctx(call);
        uses.iter().map(|(t, n)| ctx.tag(t, *n, true)).collect()
    }

    fn lists(&self, call: &Call) -> Result<Response, Response> {
        let user = call.require_user()?;
        let lists: Vec<Value> = self
            .data
            .lists
            .iter()
            .filter(|l| l.owner == user)
            .map(|l| json!({"id": self.data.id(l.seq), "title": l.title, "replies_policy": "list", "exclusive": false}))
            .collect();
        Ok(Response::json(200, &Value::Array(lists)))
    }

    /// Scheduled statuses are only ever created by alice's tokens; they are
    /// answered as stored (duplicate keys included).
    fn scheduled_statuses(&self, call: &Call, id: Option<&str>) -> Result<Response, Response> {
        call.require_user()?;
        let wanted = id.map(|id| super::ids::exact(self.flavor(), id));
        let bodies: Vec<&str> = self
            .data
            .scheduled
            .iter()
            .filter(|s| wanted.is_none_or(|w| w == Some(s.seq)))
            .map(|s| s.json.as_str())
            .collect();
        match (id, bodies.first()) {
            (None, _) => Ok(Response::raw_json(200, format!("[{}]", bodies.join(",")))),
            (Some(_), Some(body)) => Ok(Response::raw_json(200, body.to_string())),
            (Some(_), None) => Err(Response::error(404, "Record not found")),
        }
    }

    fn instance(&self, call: &Call, version: u8) -> Response {
        let domain = self.base_url.trim_start_matches("http://");
        let software = match self.flavor() {
            Flavor::Mastodon => "4.5.0",
            Flavor::GoToSocial => "0.19.1 git-ccecf5a",
            Flavor::Pleroma => "2.7.2 (compatible; Pleroma 2.9.1)",
            Flavor::Pixelfed => "2.7.2 (compatible; Pixelfed 0.12.5)",
        };
        let _ = call;
        let body = if version == 1 {
            json!({"uri": domain, "title": "Kosha Test Server", "version": software, "description": "", "languages": ["en"]})
        } else {
            let mut v = json!({"domain": domain, "title": "Kosha Test Server", "version": software, "languages": ["en"]});
            if self.flavor() == Flavor::Mastodon {
                v["api_versions"] = json!({"mastodon": 6});
            }
            v
        };
        Response::json(200, &body)
    }

    // ---- pagination -----------------------------------------------------

    pub fn page_request(&self, req: &Request, default: usize, max: usize) -> PageRequest {
        let cursor = |key: &str| {
            req.query_value(key)
                .filter(|v| !v.is_empty())
                .map(|v| self.data.cursor(v))
        };
        PageRequest {
            max_id: cursor("max_id"),
            since_id: cursor("since_id"),
            min_id: cursor("min_id"),
            limit: parse_limit(req, default, max),
        }
    }

    /// A JSON array with its RFC 8288 Link header.
    fn paged(
        &self,
        req: &Request,
        status: u16,
        page: &PageRequest,
        items: Vec<Value>,
        cursors: &[u64],
    ) -> Response {
        let response = Response::json(status, &Value::Array(items));
        match self.link_header(req, page, cursors) {
            Some(link) => response.with_header("Link", link),
            None => response,
        }
    }

    /// `next` (older, max_id) only when the page is full; `prev` (newer,
    /// min_id, or since_id on Pleroma, which also puts prev first) whenever
    /// the page has items. Other query parameters are kept.
    fn link_header(&self, req: &Request, page: &PageRequest, cursors: &[u64]) -> Option<String> {
        let (first, last) = (cursors.first()?, cursors.last()?);
        let host = req
            .header("host")
            .map(str::to_string)
            .unwrap_or_else(|| self.base_url.trim_start_matches("http://").into());
        let others: String = req
            .query
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "max_id" | "min_id" | "since_id" | "limit"))
            .map(|(k, v)| format!("&{}={}", http::percent_encode(k), http::percent_encode(v)))
            .collect();
        let url = |key: &str, seq: u64| {
            format!(
                "<http://{host}{}?{key}={}&limit={}{others}>",
                req.path,
                self.data.id(seq),
                page.limit
            )
        };
        let next = (cursors.len() >= page.limit)
            .then(|| format!("{}; rel=\"next\"", url("max_id", *last)));
        let pleroma = self.flavor() == Flavor::Pleroma;
        let prev = format!(
            "{}; rel=\"prev\"",
            url(if pleroma { "since_id" } else { "min_id" }, *first)
        );
        let links: Vec<String> = match next {
            Some(next) if pleroma => vec![prev, next],
            Some(next) => vec![next, prev],
            None => vec![prev],
        };
        Some(links.join(", "))
    }
}

/// `limit` clamped to 1..=max (servers clamp rather than refuse).
pub fn parse_limit(req: &Request, default: usize, max: usize) -> usize {
    req.query_value("limit")
        .and_then(|l| l.trim().parse::<i64>().ok())
        .map_or(default, |l| l.clamp(1, max as i64) as usize)
}

/// Applies a page request to items sorted newest (largest cursor) first.
/// With `min_id` the page is the `limit` items just above it (still returned
/// newest first), as Mastodon does.
fn paginate<T>(items: Vec<(u64, T)>, page: &PageRequest) -> Vec<(u64, T)> {
    let mut kept: Vec<(u64, T)> = items
        .into_iter()
        .filter(|(c, _)| page.max_id.is_none_or(|m| *c < m))
        .filter(|(c, _)| page.since_id.is_none_or(|s| *c > s))
        .filter(|(c, _)| page.min_id.is_none_or(|m| *c > m))
        .collect();
    if page.min_id.is_some() && kept.len() > page.limit {
        kept.drain(..kept.len() - page.limit);
    } else {
        kept.truncate(page.limit);
    }
    kept
}
