//! The runner: `host-test [--server URL] <action> [--param value ...]`,
//! `host-test help [action]` and `host-test demo`. See `runner` for the rules.

use std::process::ExitCode;
use std::sync::Arc;

use host_test::runner::{self, Args, RunFailure, Usage};
use host_test::{demo, Client, Connection, Host};

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&raw) {
        Ok(code) => code,
        Err(Usage(message)) => {
            eprintln!("error: {message}\n\n{}", runner::USAGE);
            ExitCode::from(2)
        }
    }
}

fn dispatch(raw: &[String]) -> Result<ExitCode, Usage> {
    let mut server = std::env::var("MASTODON_SERVER")
        .ok()
        .filter(|s| !s.is_empty());
    let mut rest = raw;
    if let Some(first) = rest.first() {
        if first == "--server" {
            server = Some(
                rest.get(1)
                    .cloned()
                    .ok_or_else(|| Usage("--server needs a URL".into()))?,
            );
            rest = &rest[2..];
        } else if let Some(url) = first.strip_prefix("--server=") {
            server = Some(url.to_string());
            rest = &rest[1..];
        }
    }
    let Some((name, params)) = rest.split_first() else {
        print!("{}", runner::help(None)?);
        return Ok(ExitCode::SUCCESS);
    };
    match name.as_str() {
        "help" | "--help" | "-h" => {
            print!("{}", runner::help(params.first().map(String::as_str))?);
            return Ok(ExitCode::SUCCESS);
        }
        "demo" => return Ok(demo_command(params)?),
        _ => {}
    }
    let actions = runner::actions();
    let action = actions
        .iter()
        .find(|a| a.name == name)
        .ok_or_else(|| Usage(format!("unknown action `{name}`; `help` lists them")))?;
    let args = Args::parse(action, params)?;
    let server = server
        .ok_or_else(|| Usage("no server: give --server URL or set MASTODON_SERVER".into()))?;
    let token = std::env::var("MASTODON_ACCESS_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let host = match Host::new() {
        Ok(host) => Arc::new(host),
        Err(e) => {
            eprintln!("{}", serde_json::json!({"host-error": format!("{e:#}")}));
            return Ok(ExitCode::from(3));
        }
    };
    let mut connection = Connection::new(server, token);
    if let Some(command) = std::env::var("MASTODON_REFRESH_COMMAND")
        .ok()
        .filter(|c| !c.trim().is_empty())
    {
        connection = connection.with_refresh(Arc::new(move || refresh_token(&command)));
    }
    let client = Client::new(host, connection);
    match runner::run(&client, action, &args) {
        Ok(Ok(value)) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Err(error)) => {
            eprintln!(
                "{}",
                serde_json::to_string_pretty(&runner::error_json(&error)).unwrap_or_default()
            );
            Ok(ExitCode::from(1))
        }
        Err(RunFailure::Usage(usage)) => Err(usage),
        Err(RunFailure::Host(e)) => {
            eprintln!("{}", serde_json::json!({"host-error": format!("{e:#}")}));
            Ok(ExitCode::from(3))
        }
    }
}

fn demo_command(params: &[String]) -> Result<ExitCode, Usage> {
    let flavor = match params {
        [] => host_test::server::Flavor::Mastodon,
        [flag, name] if flag == "--flavor" => name
            .parse()
            .map_err(|_| Usage(format!("unknown flavor `{name}`")))?,
        _ => return Err(Usage("demo takes only --flavor NAME".into())),
    };
    match demo::run(flavor, &mut std::io::stdout()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("demo failed: {e:#}");
            Ok(ExitCode::from(3))
        }
    }
}

/// Runs the user's refresh command (through `sh -c`) after a 401 and takes
/// the first line it prints as the new token. Its output is never echoed. A
/// command that has not finished within 30 seconds is killed: no token.
fn refresh_token(command: &str) -> Option<String> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().ok()? {
            break status;
        }
        if std::time::Instant::now() > give_up {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut output = String::new();
    child.stdout.take()?.read_to_string(&mut output).ok()?;
    let token = output.lines().next()?.trim().to_string();
    (status.success() && !token.is_empty()).then_some(token)
}
