//! The command-line runner: parses `<action> [--param value ...]` into the
//! WIT parameter types, runs the action and renders the outcome as JSON.
//! Parameter names are the WIT names; record fields are flags of their own;
//! list values repeat the flag; booleans are bare flags.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::*;

/// How a parameter is given on the command line.
#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    /// `--name value`
    Value,
    /// `--name` alone sets it.
    Flag,
    /// `--name value`, repeatable.
    List,
}

pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
}

pub struct Action {
    pub name: &'static str,
    pub help: &'static str,
    pub params: Vec<Param>,
}

const fn value(name: &'static str, help: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Value,
        help,
    }
}
const fn flag(name: &'static str, help: &'static str) -> Param {
    Param {
        name,
        kind: Kind::Flag,
        help,
    }
}
const fn list(name: &'static str, help: &'static str) -> Param {
    Param {
        name,
        kind: Kind::List,
        help,
    }
}

fn page_params() -> Vec<Param> {
    vec![
        value("max-id", "items older than this id (from a page's `next`)"),
        value("since-id", "items newer than this id"),
        value(
            "min-id",
            "items immediately newer than this id (from a page's `prev`)",
        ),
        value("limit", "page size"),
    ]
}

fn with_page(mut params: Vec<Param>) -> Vec<Param> {
    params.extend(page_params());
    params
}

/// Every action the runner offers, with its parameters.
pub fn actions() -> Vec<Action> {
    vec![
        Action {
            name: "verify-credentials",
            help: "the account of the access token, with its settings",
            params: vec![],
        },
        Action {
            name: "get-account",
            help: "an account by id",
            params: vec![value("id", "the account id (required)")],
        },
        Action {
            name: "lookup-account",
            help: "an account by address",
            params: vec![value("acct", "`user` or `user@domain` (required)")],
        },
        Action {
            name: "get-statuses",
            help: "an account's statuses, newest first",
            params: with_page(vec![
                value("account-id", "the account id (required)"),
                flag("only-media", "only statuses with media"),
                flag("exclude-replies", "leave out replies"),
                flag("exclude-reblogs", "leave out boosts"),
                flag("pinned", "only pinned statuses"),
                value("tagged", "only statuses with this hashtag (without #)"),
            ]),
        },
        Action {
            name: "get-followers",
            help: "the accounts following an account",
            params: with_page(vec![value("account-id", "the account id (required)")]),
        },
        Action {
            name: "get-following",
            help: "the accounts an account follows",
            params: with_page(vec![value("account-id", "the account id (required)")]),
        },
        Action {
            name: "post-status",
            help: "publish or schedule a status",
            params: vec![
                value("text", "the text (required unless media is attached)"),
                value(
                    "visibility",
                    "public, unlisted, private, direct, or a server-specific value",
                ),
                value("spoiler-text", "a content warning"),
                flag(
                    "sensitive",
                    "mark as sensitive (--sensitive=false to override a sensitive default)",
                ),
                value("language", "ISO 639 code such as en"),
                value("in-reply-to-id", "reply to this status"),
                list("media-ids", "an uploaded media id (repeat for several)"),
                list("poll-options", "a poll choice (repeat; at least 2)"),
                value("poll-expires-in", "seconds until the poll closes"),
                flag("poll-multiple", "allow several choices"),
                flag("poll-hide-totals", "hide totals until the poll closes"),
                value("scheduled-at", "RFC 3339 time at least 5 minutes ahead"),
                value("idempotency-key", "reuse when retrying the same post"),
            ],
        },
        Action {
            name: "get-timeline",
            help: "a page of a timeline",
            params: with_page(vec![
                value("timeline", "home, public, hashtag or list (required)"),
                value("hashtag", "for hashtag: the hashtag without #"),
                list("any", "for hashtag: also these hashtags"),
                list("all", "for hashtag: only with all of these too"),
                list("none", "for hashtag: without these"),
                value("list-id", "for list: the list id"),
                flag("local", "public/hashtag: only this server"),
                flag("remote", "public/hashtag: only other servers"),
                flag("only-media", "public/hashtag: only statuses with media"),
            ]),
        },
        Action {
            name: "search",
            help: "search accounts, statuses and hashtags",
            params: vec![
                value("query", "what to search for (required)"),
                value("kind", "accounts, hashtags or statuses"),
                flag("resolve", "look up remote URLs and accounts"),
                flag("following", "only accounts the user follows"),
                value("account-id", "only statuses by this account"),
                flag("exclude-unreviewed", "leave out unreviewed hashtags"),
                value("max-id", "results older than this id"),
                value("min-id", "results newer than this id"),
                value("limit", "results per kind"),
                value("offset", "skip this many results"),
            ],
        },
    ]
}

/// A mistake in the command line (exit code 2).
#[derive(Debug)]
pub struct Usage(pub String);

/// Parsed `--param` values of one action.
pub struct Args {
    values: BTreeMap<&'static str, Vec<String>>,
}

impl Args {
    pub fn parse(action: &Action, raw: &[String]) -> Result<Args, Usage> {
        let mut values: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut rest = raw.iter();
        while let Some(arg) = rest.next() {
            let (name, inline) = match arg.strip_prefix("--") {
                Some(body) => match body.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (body, None),
                },
                None => {
                    return Err(Usage(format!(
                        "unexpected argument `{arg}`; parameters are --name value"
                    )))
                }
            };
            let param = action
                .params
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| {
                    Usage(format!(
                        "`{}` has no parameter --{name}; see `help {}`",
                        action.name, action.name
                    ))
                })?;
            let given = match (param.kind, inline) {
                (Kind::Flag, Some(v)) => v,
                (Kind::Flag, None) => "true".to_string(),
                (_, Some(v)) => v,
                (_, None) => rest
                    .next()
                    .cloned()
                    .ok_or_else(|| Usage(format!("--{name} needs a value")))?,
            };
            let slot = values.entry(param.name).or_default();
            if param.kind != Kind::List && !slot.is_empty() {
                return Err(Usage(format!("--{name} is given twice")));
            }
            slot.push(given);
        }
        Ok(Args { values })
    }

    fn opt(&self, name: &str) -> Option<String> {
        self.values.get(name).and_then(|v| v.first().cloned())
    }

    fn required(&self, name: &str) -> Result<String, Usage> {
        self.opt(name)
            .ok_or_else(|| Usage(format!("--{name} is required")))
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn flag(&self, name: &str) -> Result<bool, Usage> {
        match self.opt(name).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(Usage(format!(
                "--{name} takes no value or true/false, not `{other}`"
            ))),
        }
    }

    fn number(&self, name: &str) -> Result<Option<u32>, Usage> {
        self.opt(name)
            .map(|v| {
                v.parse::<u32>()
                    .map_err(|_| Usage(format!("--{name} must be a whole number, not `{v}`")))
            })
            .transpose()
    }

    fn page(&self) -> Result<PageRequest, Usage> {
        Ok(PageRequest {
            max_id: self.opt("max-id"),
            since_id: self.opt("since-id"),
            min_id: self.opt("min-id"),
            limit: self.number("limit")?,
        })
    }
}

/// A visibility named as the API names it; unknown names are kept as `other`.
pub fn parse_visibility(text: &str) -> Visibility {
    match text {
        "public" => Visibility::Public,
        "unlisted" => Visibility::Unlisted,
        "private" => Visibility::Private,
        "direct" => Visibility::Direct,
        other => Visibility::Other(other.to_string()),
    }
}

/// Runs an action and returns its JSON result, or its error.
pub fn run(
    client: &Client,
    action: &Action,
    args: &Args,
) -> Result<Result<Value, Error>, RunFailure> {
    fn out<T: serde::Serialize>(outcome: Outcome<T>) -> Result<Result<Value, Error>, RunFailure> {
        match outcome {
            Ok(Ok(value)) => Ok(Ok(
                serde_json::to_value(value).map_err(|e| RunFailure::Host(e.into()))?
            )),
            Ok(Err(error)) => Ok(Err(error)),
            Err(host) => Err(RunFailure::Host(host)),
        }
    }
    match action.name {
        "verify-credentials" => out(client.verify_credentials()),
        "get-account" => out(client.get_account(&args.required("id")?)),
        "lookup-account" => out(client.lookup_account(&args.required("acct")?)),
        "get-statuses" => {
            let filters = StatusFilters {
                only_media: args.flag("only-media")?,
                exclude_replies: args.flag("exclude-replies")?,
                exclude_reblogs: args.flag("exclude-reblogs")?,
                pinned: args.flag("pinned")?,
                tagged: args.opt("tagged"),
            };
            out(client.get_statuses(&args.required("account-id")?, &filters, &args.page()?))
        }
        "get-followers" => out(client.get_followers(&args.required("account-id")?, &args.page()?)),
        "get-following" => out(client.get_following(&args.required("account-id")?, &args.page()?)),
        "post-status" => out(client.post_status(&new_status(args)?)),
        "get-timeline" => out(client.get_timeline(&timeline(args)?, &args.page()?)),
        "search" => {
            let kind = match args.opt("kind").as_deref() {
                None => None,
                Some("accounts") => Some(SearchKind::Accounts),
                Some("hashtags") => Some(SearchKind::Hashtags),
                Some("statuses") => Some(SearchKind::Statuses),
                Some(other) => {
                    return Err(RunFailure::Usage(Usage(format!(
                        "--kind must be accounts, hashtags or statuses, not `{other}`"
                    ))))
                }
            };
            let options = SearchOptions {
                kind,
                resolve: args.flag("resolve")?,
                following: args.flag("following")?,
                account_id: args.opt("account-id"),
                exclude_unreviewed: args.flag("exclude-unreviewed")?,
                max_id: args.opt("max-id"),
                min_id: args.opt("min-id"),
                limit: args.number("limit")?,
                offset: args.number("offset")?,
            };
            out(client.search(&args.required("query")?, &options))
        }
        other => Err(RunFailure::Usage(Usage(format!(
            "unknown action `{other}`"
        )))),
    }
}

fn new_status(args: &Args) -> Result<NewStatus, Usage> {
    let options = args.list("poll-options");
    let poll = if options.is_empty() {
        None
    } else {
        Some(NewPoll {
            options,
            expires_in: args
                .number("poll-expires-in")?
                .ok_or_else(|| Usage("a poll needs --poll-expires-in".into()))?,
            multiple: args.flag("poll-multiple")?,
            hide_totals: args.flag("poll-hide-totals")?,
        })
    };
    Ok(NewStatus {
        text: args.opt("text"),
        visibility: args.opt("visibility").as_deref().map(parse_visibility),
        spoiler_text: args.opt("spoiler-text"),
        sensitive: args
            .opt("sensitive")
            .map(|_| args.flag("sensitive"))
            .transpose()?,
        language: args.opt("language"),
        in_reply_to_id: args.opt("in-reply-to-id"),
        media_ids: args.list("media-ids"),
        poll,
        scheduled_at: args.opt("scheduled-at"),
        idempotency_key: args.opt("idempotency-key"),
    })
}

fn timeline(args: &Args) -> Result<Timeline, Usage> {
    let filters = PublicFilters {
        local: args.flag("local")?,
        remote: args.flag("remote")?,
        only_media: args.flag("only-media")?,
    };
    match args.required("timeline")?.as_str() {
        "home" => Ok(Timeline::Home),
        "public" => Ok(Timeline::Public(filters)),
        "hashtag" => Ok(Timeline::Hashtag(HashtagTimeline {
            hashtag: args.required("hashtag")?,
            any: args.list("any"),
            all: args.list("all"),
            none: args.list("none"),
            filters,
        })),
        "list" => Ok(Timeline::List(args.required("list-id")?)),
        other => Err(Usage(format!(
            "--timeline must be home, public, hashtag or list, not `{other}`"
        ))),
    }
}

/// Why the runner could not produce an action result.
pub enum RunFailure {
    Usage(Usage),
    Host(anyhow::Error),
}

impl From<Usage> for RunFailure {
    fn from(usage: Usage) -> RunFailure {
        RunFailure::Usage(usage)
    }
}

/// An action error as JSON naming its WIT case.
pub fn error_json(error: &Error) -> Value {
    let case = error_case(error);
    match error {
        Error::InvalidInput(i) => json!({"error": case, "field": i.field, "message": i.message}),
        Error::RateLimited(r) => json!({"error": case, "rate-limit": r}),
        Error::ServerError(f) | Error::RequestFailed(f) => {
            json!({"error": case, "status": f.status, "message": f.message})
        }
        Error::NetworkFailure(f) => json!({"error": case, "kind": f.kind, "message": f.message}),
        Error::BadConfiguration(m)
        | Error::Unauthorized(m)
        | Error::Forbidden(m)
        | Error::NotFound(m)
        | Error::Gone(m)
        | Error::Rejected(m)
        | Error::UndecodableResponse(m) => json!({"error": case, "message": m}),
    }
}

/// `help` and `help <action>`.
pub fn help(action: Option<&str>) -> Result<String, Usage> {
    let all = actions();
    let Some(name) = action else {
        let mut text = String::from(USAGE);
        text.push_str("\nActions:\n");
        for a in &all {
            text.push_str(&format!("  {:<20} {}\n", a.name, a.help));
        }
        text.push_str(
            "  demo                 start a local test server and walk through every action\n",
        );
        text.push_str("\n`help <action>` lists an action's parameters.\n");
        return Ok(text);
    };
    let a = all
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| Usage(format!("unknown action `{name}`")))?;
    let mut text = format!("{} — {}\n\nParameters:\n", a.name, a.help);
    if a.params.is_empty() {
        text.push_str("  (none)\n");
    }
    for p in &a.params {
        let form = match p.kind {
            Kind::Value => format!("--{} VALUE", p.name),
            Kind::Flag => format!("--{}", p.name),
            Kind::List => format!("--{} VALUE ...", p.name),
        };
        text.push_str(&format!("  {form:<28} {}\n", p.help));
    }
    Ok(text)
}

pub const USAGE: &str = "\
Kosha Mastodon Connector runner

Usage:
  host-test [--server URL] <action> [--param value ...]
  host-test help [action]
  host-test demo [--flavor mastodon|gotosocial|pleroma|pixelfed]

The server comes from --server or MASTODON_SERVER, the token from
MASTODON_ACCESS_TOKEN (optional for public endpoints). If MASTODON_REFRESH_COMMAND
is set, it is run (sh -c) after a 401 and the first line it prints is used as a
fresh token for one repeat of the request. Results are printed as
JSON on stdout; an action error as JSON naming its case on stderr (exit 1), a
usage mistake exits 2, a host failure 3.
";
