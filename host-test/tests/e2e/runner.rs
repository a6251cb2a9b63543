//! The command-line runner, run as a user runs it.

use std::process::{Command, Output};

use host_test::server::*;

const SECRET: &str = "runner-SECRET-token-42";

fn run(server: Option<&str>, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-test"));
    command.args(args);
    for inherited in [
        "MASTODON_SERVER",
        "MASTODON_ACCESS_TOKEN",
        "MASTODON_REFRESH_COMMAND",
        "KOSHA_CACHE_DIR",
    ] {
        command.env_remove(inherited);
    }
    if let Some(server) = server {
        command.env("MASTODON_SERVER", server);
    }
    if let Some(token) = token {
        command.env("MASTODON_ACCESS_TOKEN", token);
    }
    command.output().expect("the runner starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_actions_and_parameters() {
    let all = run(None, None, &["help"]);
    assert!(all.status.success());
    for action in [
        "verify-credentials",
        "get-account",
        "lookup-account",
        "get-statuses",
        "get-followers",
        "get-following",
        "post-status",
        "get-timeline",
        "search",
        "demo",
    ] {
        assert!(text(&all.stdout).contains(action), "{action}");
    }
    let one = run(None, None, &["help", "post-status"]);
    assert!(text(&one.stdout).contains("--poll-options VALUE ..."));
}

#[test]
fn actions_print_json_results_and_errors() {
    let server = TestServer::start(Flavor::Mastodon);
    let sample = ids(Flavor::Mastodon);
    let me = run(
        Some(&server.url()),
        Some(USER_TOKEN),
        &["verify-credentials"],
    );
    assert!(me.status.success(), "{}", text(&me.stderr));
    let value: serde_json::Value = serde_json::from_slice(&me.stdout).expect("JSON on stdout");
    assert_eq!(value["value"]["account"]["username"], "alice");

    let url = server.url();
    let statuses = run(
        None,
        Some(USER_TOKEN),
        &[
            "--server",
            &url,
            "get-statuses",
            "--account-id",
            &sample.alice,
            "--limit",
            "3",
            "--only-media",
        ],
    );
    let value: serde_json::Value = serde_json::from_slice(&statuses.stdout).expect("JSON");
    assert_eq!(value["items"].as_array().unwrap().len(), 3);
    assert!(value["next"]["max_id"].is_string());

    let posted = run(
        Some(&url),
        Some(USER_TOKEN),
        &[
            "post-status",
            "--text",
            "from the runner",
            "--poll-options",
            "a",
            "--poll-options",
            "b",
            "--poll-expires-in",
            "600",
        ],
    );
    let value: serde_json::Value = serde_json::from_slice(&posted.stdout).expect("JSON");
    assert_eq!(
        value["value"]["Published"]["post"]["poll"]["options"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let missing = run(
        Some(&url),
        Some(USER_TOKEN),
        &["get-account", "--id", "999999"],
    );
    assert_eq!(missing.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&missing.stderr).expect("JSON error");
    assert_eq!(error["error"], "not-found");

    let invalid = run(
        Some(&url),
        Some(USER_TOKEN),
        &["get-account", "--id", "a/b"],
    );
    let error: serde_json::Value = serde_json::from_slice(&invalid.stderr).expect("JSON error");
    assert_eq!(
        (error["error"].as_str(), error["field"].as_str()),
        (Some("invalid-input"), Some("id"))
    );

    let usage = run(Some(&url), None, &["get-account", "--nope", "1"]);
    assert_eq!(usage.status.code(), Some(2));
    let no_server = run(None, None, &["verify-credentials"]);
    assert_eq!(no_server.status.code(), Some(2));
    let plain_http = run(
        Some("http://mastodon.example"),
        Some(USER_TOKEN),
        &["verify-credentials"],
    );
    assert_eq!(plain_http.status.code(), Some(1));
    assert!(text(&plain_http.stderr).contains("bad-configuration"));
}

#[test]
fn the_token_appears_in_no_runner_output() {
    let server = TestServer::start(Flavor::Mastodon);
    let url = server.url();
    let runs = [
        run(Some(&url), Some(SECRET), &["verify-credentials"]),
        run(Some(&url), Some(SECRET), &["get-account", "--id", "../x"]),
        run(
            Some("http://127.0.0.1:1"),
            Some(SECRET),
            &["verify-credentials"],
        ),
        run(
            Some("http://example.com"),
            Some(SECRET),
            &["verify-credentials"],
        ),
        run(
            Some(&url),
            Some(&format!("{SECRET}\r\nX: y")),
            &["verify-credentials"],
        ),
    ];
    for output in runs {
        assert!(!output.status.success());
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(!all.contains(SECRET), "token leaked: {all}");
    }
}

#[test]
fn a_refresh_command_supplies_a_fresh_token() {
    let server = TestServer::start(Flavor::Mastodon);
    let output = Command::new(env!("CARGO_BIN_EXE_host-test"))
        .args(["--server", &server.url(), "verify-credentials"])
        .env("MASTODON_ACCESS_TOKEN", STALE_TOKEN)
        .env("MASTODON_REFRESH_COMMAND", format!("echo {USER_TOKEN}"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(server.request_count(), 2);
    assert!(
        !text(&output.stdout).contains(USER_TOKEN) && !text(&output.stderr).contains(USER_TOKEN)
    );
}

#[test]
fn the_runner_reuses_its_compiled_component() {
    let server = TestServer::start(Flavor::Mastodon);
    // A cache directory of its own, so other tests' hosts cannot write into it.
    let cache = std::env::temp_dir().join(format!("kosha-cache-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let cached = || -> Vec<(std::path::PathBuf, std::time::SystemTime)> {
        std::fs::read_dir(&cache)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".cwasm"))
                    .map(|e| (e.path(), e.metadata().unwrap().modified().unwrap()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let bob = ids(Flavor::Mastodon).bob;
    let run_cached = || {
        Command::new(env!("CARGO_BIN_EXE_host-test"))
            .args(["--server", &server.url(), "get-account", "--id", &bob])
            .env("KOSHA_CACHE_DIR", &cache)
            .env_remove("MASTODON_ACCESS_TOKEN")
            .output()
            .unwrap()
    };
    assert!(run_cached().status.success());
    let first = cached();
    assert_eq!(
        first.len(),
        1,
        "the first run cached its compiled component"
    );
    assert!(run_cached().status.success());
    assert_eq!(
        cached(),
        first,
        "the second run reused the cache instead of compiling again"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn the_demo_walks_through_every_action() {
    let demo = run(None, None, &["demo"]);
    assert!(demo.status.success(), "{}", text(&demo.stderr));
    let out = text(&demo.stdout);
    for line in [
        "verify-credentials",
        "lookup-account",
        "get-account",
        "get-statuses",
        "get-followers       -> 120 followers",
        "get-following",
        "post-status",
        "get-timeline home",
        "search",
    ] {
        assert!(out.contains(line), "{line} missing from:\n{out}");
    }
}
