//! The server's data model and the deterministic sample data.
//!
//! Sample data (identical in every flavor, only ids and rendering differ):
//! - alice (local, the token owner): 60 statuses, 120 followers, follows 45.
//! - bob (local), carol@remote.example, dave (local, hides his network),
//!   frank (bot, locked), rustaceans@lemmy.example (group), erin (moved to
//!   erin_new), a gone account (410) and a suspended one (200, suspended).
//! - 116 "fanNNN" accounts (even numbers remote on fedi.example).
//! - 30 statuses by others, interleaved in time with alice's.

use super::clock::{self, HOUR_MS};
use super::ids as id_format;
use super::Flavor;

pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CAROL: u64 = 3;
pub const DAVE: u64 = 4;
pub const FRANK: u64 = 5;
pub const RUSTACEANS: u64 = 6;
pub const ERIN: u64 = 7;
pub const ERIN_NEW: u64 = 8;
pub const GONE: u64 = 9;
pub const SUSPENDED: u64 = 10;
/// Fan n (1..=FAN_COUNT) has sequence FAN_BASE + n.
const FAN_BASE: u64 = 100;
const FAN_COUNT: u64 = 116;
/// Fans 1..=39 are followed back by alice.
const FANS_FOLLOWED: u64 = 39;

pub const OWN_LIST: u64 = 10_001;
pub const FOREIGN_LIST: u64 = 10_002;
pub const KNOWN_MEDIA: [u64; 4] = [20_001, 20_002, 20_003, 20_004];
const ATTACHED_MEDIA_START: u64 = 20_100;
const POLL_START: u64 = 30_001;
const FOLLOW_START: u64 = 100_001;
const STATUS_START: u64 = 1_000_001;
const SCHEDULED_START: u64 = 5_000_001;
/// The first sample status: 2026-08-01T08:00:00Z; one status per hour after it.
const SAMPLE_START_MS: i64 = 1_785_571_200_000;

pub struct Field {
    pub name: String,
    /// HTML.
    pub value: String,
    pub verified: bool,
}

pub struct Account {
    pub seq: u64,
    pub username: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub display_name: String,
    /// Plain text; rendered as `<p>..</p>`.
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub group: bool,
    pub discoverable: bool,
    pub created_ms: i64,
    pub fields: Vec<Field>,
    /// Custom emoji shortcodes used in the display name.
    pub emojis: Vec<String>,
    pub hides_network: bool,
    pub gone: bool,
    pub suspended: bool,
    pub moved_to: Option<u64>,
}

impl Account {
    fn new(seq: u64, username: &str, domain: Option<&str>, display_name: &str) -> Account {
        Account {
            seq,
            username: username.to_string(),
            domain: domain.map(str::to_string),
            display_name: display_name.to_string(),
            note: format!("Hi, I am {display_name}."),
            locked: false,
            bot: false,
            group: false,
            discoverable: true,
            created_ms: SAMPLE_START_MS - 400 * 24 * HOUR_MS + seq as i64 * HOUR_MS,
            fields: Vec::new(),
            emojis: Vec::new(),
            hides_network: false,
            gone: false,
            suspended: false,
            moved_to: None,
        }
    }

    /// `user` or `user@domain`.
    pub fn acct(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{}@{domain}", self.username),
            None => self.username.clone(),
        }
    }
}

pub struct Media {
    pub seq: u64,
    pub owner: u64,
    /// image, video, gifv or audio.
    pub kind: &'static str,
    pub description: Option<String>,
    pub width: u32,
    pub height: u32,
}

pub struct Poll {
    pub seq: u64,
    pub options: Vec<(String, u64)>,
    pub expires_ms: Option<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub voters: u64,
    /// Option indices alice voted for.
    pub own_votes: Vec<u32>,
}

pub struct Card {
    pub url: String,
    pub title: String,
    pub description: String,
    pub provider: String,
}

pub struct Status {
    pub seq: u64,
    pub author: u64,
    pub created_ms: i64,
    /// Plain text as posted (empty for boosts); used by search.
    pub text: String,
    /// public, unlisted, private, direct (or Pleroma's local).
    pub visibility: String,
    pub sensitive: bool,
    pub spoiler_text: String,
    pub language: Option<String>,
    pub in_reply_to: Option<u64>,
    pub reblog_of: Option<u64>,
    pub media: Vec<u64>,
    pub mentions: Vec<u64>,
    /// Lowercase, without `#`.
    pub tags: Vec<String>,
    pub emojis: Vec<String>,
    pub poll: Option<Poll>,
    pub card: Option<Card>,
    pub pinned: bool,
    pub favourited: bool,
    pub bookmarked: bool,
    pub edited_ms: Option<i64>,
    pub replies_count: u64,
    pub reblogs_count: u64,
    pub favourites_count: u64,
    pub application: Option<String>,
}

impl Status {
    /// A plain public status; callers adjust the fields they need.
    pub fn new(seq: u64, author: u64, created_ms: i64, text: &str) -> Status {
        Status {
            seq,
            author,
            created_ms,
            text: text.to_string(),
            visibility: "public".into(),
            sensitive: false,
            spoiler_text: String::new(),
            language: Some("en".into()),
            in_reply_to: None,
            reblog_of: None,
            media: Vec::new(),
            mentions: Vec::new(),
            tags: hashtags(text),
            emojis: shortcodes(text),
            poll: None,
            card: None,
            pinned: false,
            favourited: false,
            bookmarked: false,
            edited_ms: None,
            replies_count: 0,
            reblogs_count: 0,
            favourites_count: 0,
            application: None,
        }
    }
}

pub struct Follow {
    pub seq: u64,
    pub follower: u64,
    pub followee: u64,
}

pub struct List {
    pub seq: u64,
    pub owner: u64,
    pub title: String,
    pub members: Vec<u64>,
}

/// A scheduled status, kept as the JSON text it was answered with.
pub struct Scheduled {
    pub seq: u64,
    pub json: String,
}

pub struct Data {
    pub flavor: Flavor,
    pub accounts: Vec<Account>,
    /// Ascending by `seq` (= by time).
    pub statuses: Vec<Status>,
    pub media: Vec<Media>,
    pub follows: Vec<Follow>,
    pub lists: Vec<List>,
    pub scheduled: Vec<Scheduled>,
    next_status: u64,
    next_poll: u64,
    next_scheduled: u64,
}

impl Data {
    pub fn id(&self, seq: u64) -> String {
        id_format::encode(self.flavor, seq)
    }

    /// A cursor value from a request (saturating, see `ids::decode`).
    pub fn cursor(&self, id: &str) -> u64 {
        id_format::decode(self.flavor, id)
    }

    pub fn account(&self, seq: u64) -> Option<&Account> {
        self.accounts.iter().find(|a| a.seq == seq)
    }

    pub fn account_by_id(&self, id: &str) -> Option<&Account> {
        id_format::exact(self.flavor, id).and_then(|seq| self.account(seq))
    }

    /// By `user` (local) or `user@domain`; `local_domains` are the names
    /// this server answers to.
    pub fn account_by_acct(&self, acct: &str, local_domains: &[String]) -> Option<&Account> {
        let acct = acct.trim().trim_start_matches('@');
        let (user, domain) = match acct.split_once('@') {
            Some((user, domain))
                if local_domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) =>
            {
                (user, None)
            }
            Some((user, domain)) => (user, Some(domain)),
            None => (acct, None),
        };
        self.accounts.iter().find(|a| {
            a.username.eq_ignore_ascii_case(user)
                && match (&a.domain, domain) {
                    (None, None) => true,
                    (Some(d), Some(wanted)) => d.eq_ignore_ascii_case(wanted),
                    _ => false,
                }
        })
    }

    pub fn status(&self, seq: u64) -> Option<&Status> {
        self.statuses
            .binary_search_by_key(&seq, |s| s.seq)
            .ok()
            .map(|i| &self.statuses[i])
    }

    pub fn status_by_id(&self, id: &str) -> Option<&Status> {
        id_format::exact(self.flavor, id).and_then(|seq| self.status(seq))
    }

    pub fn media(&self, seq: u64) -> Option<&Media> {
        self.media.iter().find(|m| m.seq == seq)
    }

    pub fn list(&self, seq: u64) -> Option<&List> {
        self.lists.iter().find(|l| l.seq == seq)
    }

    pub fn follows(&self, follower: u64, followee: u64) -> bool {
        self.follows
            .iter()
            .any(|f| f.follower == follower && f.followee == followee)
    }

    pub fn followers_count(&self, account: u64) -> usize {
        self.follows
            .iter()
            .filter(|f| f.followee == account)
            .count()
    }

    pub fn following_count(&self, account: u64) -> usize {
        self.follows
            .iter()
            .filter(|f| f.follower == account)
            .count()
    }

    pub fn statuses_count(&self, account: u64) -> usize {
        self.statuses.iter().filter(|s| s.author == account).count()
    }

    pub fn last_status_ms(&self, account: u64) -> Option<i64> {
        self.statuses
            .iter()
            .rev()
            .find(|s| s.author == account)
            .map(|s| s.created_ms)
    }

    /// Whether `viewer` may see `status` (Mastodon's visibility rules, simplified).
    pub fn visible(&self, status: &Status, viewer: Option<u64>) -> bool {
        match status.visibility.as_str() {
            "private" => {
                viewer.is_some_and(|v| v == status.author || self.follows(v, status.author))
            }
            "direct" => viewer.is_some_and(|v| v == status.author || status.mentions.contains(&v)),
            _ => true,
        }
    }

    pub fn next_status_seq(&mut self) -> u64 {
        self.next_status += 1;
        self.next_status - 1
    }

    pub fn next_poll_seq(&mut self) -> u64 {
        self.next_poll += 1;
        self.next_poll - 1
    }

    pub fn next_scheduled_seq(&mut self) -> u64 {
        self.next_scheduled += 1;
        self.next_scheduled - 1
    }
}

/// Hashtags in a text: `#word` at the start or after whitespace, lowercased,
/// without duplicates.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut previous = ' ';
    for (i, c) in text.char_indices() {
        if c == '#' && !previous.is_alphanumeric() && previous != '#' {
            let word: String = text[i + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let word = word.to_lowercase();
            if !word.is_empty() && !tags.contains(&word) {
                tags.push(word);
            }
        }
        previous = c;
    }
    tags
}

/// Custom emoji shortcodes (`:name:`) this server knows, as used in a text.
pub fn shortcodes(text: &str) -> Vec<String> {
    ["kosha", "ferris"]
        .iter()
        .filter(|code| text.contains(&format!(":{code}:")))
        .map(|c| c.to_string())
        .collect()
}

/// The ids of the named sample entities, for tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleIds {
    /// The token owner: 60 statuses, 120 followers, follows 45.
    pub alice: String,
    pub bob: String,
    /// `carol@remote.example`.
    pub carol: String,
    /// Hides his network: followers/following answer `[]`
    /// (Pixelfed: his counts are -1).
    pub dave: String,
    /// Bot, locked.
    pub frank: String,
    /// `rustaceans@lemmy.example`, a group.
    pub group: String,
    /// `erin`, moved to `moved_target`.
    pub moved: String,
    /// `erin_new`.
    pub moved_target: String,
    /// Every request about it answers 410.
    pub gone_account: String,
    /// Answers 200 with `"suspended": true`.
    pub suspended_account: String,
    /// Alice's list (bob and carol).
    pub own_list: String,
    /// Bob's list: 404 for alice.
    pub foreign_list: String,
    /// Alice's unattached uploads, usable (repeatedly) in `media_ids`.
    pub known_media: Vec<String>,
    /// Alice's statuses, oldest first (60; boosts included).
    pub alice_statuses: Vec<String>,
    /// Alice's statuses with media, oldest first (the last has two attachments).
    pub alice_media_statuses: Vec<String>,
    pub alice_pinned_statuses: Vec<String>,
    /// Alice's boosts (their `reblog` is bob's or carol's status).
    pub alice_reblogs: Vec<String>,
    /// Alice's replies to bob.
    pub alice_replies: Vec<String>,
    /// Alice's status with a poll ("Which editor do you prefer?").
    pub poll_status: String,
    /// Alice's status with a link card.
    pub card_status: String,
    /// Alice's status with the `:kosha:` custom emoji.
    pub emoji_status: String,
    /// Alice's sensitive status with a content warning (and media).
    pub sensitive_status: String,
    /// A public status by bob (alice's replies answer it).
    pub bob_status: String,
    /// A followers-only status by bob (visible to alice, not anonymously).
    pub bob_private_status: String,
}

/// The sample ids of a flavor.
pub fn ids(flavor: Flavor) -> SampleIds {
    let data = sample(flavor);
    let id = |seq: u64| data.id(seq);
    let alice: Vec<&Status> = data.statuses.iter().filter(|s| s.author == ALICE).collect();
    let alice_where = |f: &dyn Fn(&Status) -> bool| {
        alice
            .iter()
            .filter(|s| f(s))
            .map(|s| id(s.seq))
            .collect::<Vec<_>>()
    };
    let first = |v: Vec<String>| v.into_iter().next().expect("sample status");
    let bob_public = data
        .statuses
        .iter()
        .rev()
        .find(|s| s.author == BOB && s.visibility == "public")
        .unwrap();
    let bob_private = data
        .statuses
        .iter()
        .find(|s| s.author == BOB && s.visibility == "private")
        .unwrap();
    SampleIds {
        alice: id(ALICE),
        bob: id(BOB),
        carol: id(CAROL),
        dave: id(DAVE),
        frank: id(FRANK),
        group: id(RUSTACEANS),
        moved: id(ERIN),
        moved_target: id(ERIN_NEW),
        gone_account: id(GONE),
        suspended_account: id(SUSPENDED),
        own_list: id(OWN_LIST),
        foreign_list: id(FOREIGN_LIST),
        known_media: KNOWN_MEDIA.iter().map(|&m| id(m)).collect(),
        alice_statuses: alice_where(&|_| true),
        alice_media_statuses: alice_where(&|s| !s.media.is_empty()),
        alice_pinned_statuses: alice_where(&|s| s.pinned),
        alice_reblogs: alice_where(&|s| s.reblog_of.is_some()),
        alice_replies: alice_where(&|s| s.in_reply_to.is_some()),
        poll_status: first(alice_where(&|s| s.poll.is_some())),
        card_status: first(alice_where(&|s| s.card.is_some())),
        emoji_status: first(alice_where(&|s| !s.emojis.is_empty())),
        sensitive_status: first(alice_where(&|s| s.sensitive)),
        bob_status: id(bob_public.seq),
        bob_private_status: id(bob_private.seq),
    }
}

/// Builds the sample data; deterministic, so `ids()` matches a running server.
pub fn sample(flavor: Flavor) -> Data {
    let mut data = Data {
        flavor,
        accounts: sample_accounts(flavor),
        statuses: Vec::new(),
        media: Vec::new(),
        follows: Vec::new(),
        lists: vec![
            List {
                seq: OWN_LIST,
                owner: ALICE,
                title: "Friends".into(),
                members: vec![BOB, CAROL],
            },
            List {
                seq: FOREIGN_LIST,
                owner: BOB,
                title: "Bob's list".into(),
                members: vec![ALICE],
            },
        ],
        scheduled: Vec::new(),
        next_status: STATUS_START,
        next_poll: POLL_START,
        next_scheduled: SCHEDULED_START,
    };
    for (i, &seq) in KNOWN_MEDIA.iter().enumerate() {
        data.media.push(Media {
            seq,
            owner: ALICE,
            kind: "image",
            description: Some(format!("Uploaded picture {}", i + 1)),
            width: 1200,
            height: 800,
        });
    }
    add_follows(&mut data);
    add_statuses(&mut data);
    data
}

fn sample_accounts(flavor: Flavor) -> Vec<Account> {
    let mut alice = Account::new(ALICE, "alice", None, "Alice :kosha:");
    alice.note = "Testing the Kosha connector. Likes #rust.".into();
    alice.emojis = vec!["kosha".into()];
    alice.fields = vec![
        Field {
            name: "Website".into(),
            value: "<a href=\"https://alice.example\" rel=\"me\">alice.example</a>".into(),
            verified: true,
        },
        Field {
            name: "Pronouns".into(),
            value: "she/her".into(),
            verified: false,
        },
    ];
    let mut dave = Account::new(DAVE, "dave", None, "Dave");
    dave.hides_network = true;
    let mut frank = Account::new(FRANK, "frank", None, "Frank the Bot");
    (frank.bot, frank.locked) = (true, true);
    let mut group = Account::new(
        RUSTACEANS,
        "rustaceans",
        Some("lemmy.example"),
        "Rustaceans",
    );
    group.group = true;
    let mut erin = Account::new(ERIN, "erin", None, "Erin (moved)");
    erin.moved_to = Some(ERIN_NEW);
    let mut gone = Account::new(GONE, "gone", None, "Gone");
    gone.gone = true;
    let mut suspended = Account::new(SUSPENDED, "spammer", None, "Spammer");
    suspended.suspended = true;
    let mut accounts = vec![
        alice,
        Account::new(BOB, "bob", None, "Bob"),
        Account::new(CAROL, "carol", Some("remote.example"), "Carol"),
        dave,
        frank,
        group,
        erin,
        Account::new(ERIN_NEW, "erin_new", None, "Erin"),
        gone,
        suspended,
    ];
    for n in 1..=FAN_COUNT {
        let domain = (n % 2 == 0).then_some("fedi.example");
        // Pleroma lets display names be empty; clients must fall back to the username.
        let display = if flavor == Flavor::Pleroma && n % 10 == 0 {
            String::new()
        } else {
            format!("Fan {n}")
        };
        accounts.push(Account::new(
            FAN_BASE + n,
            &format!("fan{n:03}"),
            domain,
            &display,
        ));
    }
    accounts
}

/// Alice's 120 followers and 45 followings, plus a few edges among others.
/// Follow ids increase in creation order; listings are newest follow first.
fn add_follows(data: &mut Data) {
    let fans = (1..=FAN_COUNT).map(|n| FAN_BASE + n);
    let mut edges: Vec<(u64, u64)> = Vec::new();
    // Followers of alice: 4 named accounts + 116 fans = 120.
    edges.extend(
        [BOB, CAROL, DAVE, FRANK]
            .into_iter()
            .chain(fans.clone())
            .map(|f| (f, ALICE)),
    );
    // Alice follows 6 named accounts + 39 fans = 45.
    let followed = [BOB, CAROL, DAVE, FRANK, RUSTACEANS, ERIN_NEW]
        .into_iter()
        .chain(fans.take(FANS_FOLLOWED as usize));
    edges.extend(followed.map(|f| (ALICE, f)));
    edges.extend([
        (CAROL, BOB),
        (DAVE, BOB),
        (BOB, CAROL),
        (BOB, DAVE),
        (FRANK, DAVE),
    ]);
    for (i, (follower, followee)) in edges.into_iter().enumerate() {
        data.follows.push(Follow {
            seq: FOLLOW_START + i as u64,
            follower,
            followee,
        });
    }
}

/// 90 statuses, one per hour: every third slot (and the first few) is a
/// status by someone else, the rest are alice's 60.
fn add_statuses(data: &mut Data) {
    let others = [
        BOB,
        CAROL,
        BOB,
        RUSTACEANS,
        DAVE,
        FAN_BASE + 3,
        FRANK,
        BOB,
        CAROL,
        FAN_BASE + 50,
    ];
    let (mut alice_i, mut other_j) = (0usize, 0usize);
    let mut slot = 0i64;
    while alice_i < super::ALICE_STATUS_COUNT {
        let created = SAMPLE_START_MS + slot * HOUR_MS;
        if slot < 6 || slot % 3 == 0 {
            let author = others[other_j % others.len()];
            let status = other_status(data, other_j, author, created);
            data.statuses.push(status);
            other_j += 1;
        } else {
            let status = alice_status(data, alice_i, created);
            data.statuses.push(status);
            alice_i += 1;
        }
        slot += 1;
    }
}

fn other_status(data: &mut Data, j: usize, author: u64, created: i64) -> Status {
    let username = data
        .account(author)
        .map(|a| a.username.clone())
        .unwrap_or_default();
    let mut text = format!("Post {j} by {username} about the fediverse");
    if j % 4 == 1 {
        text.push_str(" #rust");
    }
    if j % 5 == 2 {
        text.push_str(" #Kosha");
    }
    let seq = data.next_status_seq();
    let mut status = Status::new(seq, author, created, &text);
    if j % 6 == 3 {
        status.media.push(attach(data, author, "image", seq));
    }
    if author == BOB && j == 7 {
        status.visibility = "private".into();
        status.text = format!("Followers-only note {j} by bob");
        status.tags.clear();
    }
    status.favourites_count = (j % 7) as u64;
    status
}

/// Alice's status number `i` (0 = oldest). See the module docs and the
/// ALICE_* constants for what the patterns produce.
fn alice_status(data: &mut Data, i: usize, created: i64) -> Status {
    let seq = data.next_status_seq();
    if i % 10 == 7 {
        return alice_reblog(data, seq, created);
    }
    let mut text = match i {
        58 => "Which editor do you prefer?".to_string(),
        56 => "Reading https://blog.example/wasm-components about components".to_string(),
        54 => "Waving at @carol@remote.example".to_string(),
        52 => "Hello :kosha: friends".to_string(),
        _ => format!("Alice post {i} about federation"),
    };
    if i.is_multiple_of(4) {
        text.push_str(" #kosha");
    }
    if i % 6 == 2 {
        text.push_str(" #rust");
    }
    let mut status = Status::new(seq, ALICE, created, &text);
    status.application = Some("Kosha".into());
    status.pinned = matches!(i, 1 | 11 | 21);
    status.favourited = i.is_multiple_of(8);
    status.bookmarked = i == 30;
    status.replies_count = (i % 3) as u64;
    status.reblogs_count = (i % 4) as u64;
    status.favourites_count = (i % 5) as u64;
    if i % 15 == 14 {
        // Pleroma's own visibility; it behaves like unlisted.
        status.visibility = if data.flavor == Flavor::Pleroma && i % 30 == 14 {
            "local"
        } else {
            "unlisted"
        }
        .into();
    }
    if i == 50 {
        status.language = None;
    }
    if i == 57 {
        status.edited_ms = Some(created + HOUR_MS / 2);
    }
    if i % 10 == 3 {
        status.media.push(attach(data, ALICE, "image", seq));
        if i == 53 {
            status.media.push(attach(data, ALICE, "video", seq));
        }
    }
    if i == 43 {
        status.sensitive = true;
        status.spoiler_text = "Food".into();
    }
    if i % 10 == 5 {
        let target = latest(data, |s| {
            s.author == BOB && s.visibility == "public" && s.reblog_of.is_none()
        });
        status.in_reply_to = Some(target);
        status.mentions.push(BOB);
        status.text = format!("@bob {}", status.text);
    }
    if i == 54 {
        status.mentions.push(CAROL);
    }
    if i == 56 {
        status.card = Some(Card {
            url: "https://blog.example/wasm-components".into(),
            title: "WebAssembly components".into(),
            description: "How the component model works".into(),
            provider: "Blog Example".into(),
        });
    }
    if i == 58 {
        status.poll = Some(Poll {
            seq: data.next_poll_seq(),
            options: vec![("Helix".into(), 7), ("Vim".into(), 5), ("Emacs".into(), 3)],
            expires_ms: Some(clock::parse_rfc3339("2027-12-31T00:00:00Z").unwrap_or(0)),
            multiple: false,
            hide_totals: false,
            voters: 15,
            own_votes: vec![0],
        });
    }
    status
}

/// A boost of the newest public status by bob or carol.
fn alice_reblog(data: &mut Data, seq: u64, created: i64) -> Status {
    let target = latest(data, |s| {
        (s.author == BOB || s.author == CAROL) && s.visibility == "public" && s.reblog_of.is_none()
    });
    let mut status = Status::new(seq, ALICE, created, "");
    status.reblog_of = Some(target);
    status.language = None;
    status
}

fn latest(data: &Data, pred: impl Fn(&Status) -> bool) -> u64 {
    data.statuses
        .iter()
        .rev()
        .find(|s| pred(s))
        .map(|s| s.seq)
        .expect("an earlier sample status")
}

/// Creates an attached media item; its sequence derives from the status so
/// sample ids stay stable.
fn attach(data: &mut Data, owner: u64, kind: &'static str, status_seq: u64) -> u64 {
    let seq = ATTACHED_MEDIA_START + data.media.len() as u64;
    let (width, height) = if kind == "video" {
        (1920, 1080)
    } else {
        (1600, 1200)
    };
    data.media.push(Media {
        seq,
        owner,
        kind,
        description: Some(format!(
            "Attachment of status {}",
            status_seq - STATUS_START
        )),
        width,
        height,
    });
    seq
}
