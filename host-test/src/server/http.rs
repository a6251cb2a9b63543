//! Minimal HTTP/1.1 framing: reading requests, writing responses, and the
//! percent-/form-encoding helpers the routes need.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often an idle keep-alive connection checks whether the server stopped.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// How long a client may take to send the rest of a started request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_LINE: u64 = 16 * 1024;
const MAX_HEADERS: usize = 200;
const MAX_BODY: usize = 16 * 1024 * 1024;

pub struct Request {
    pub method: String,
    /// Percent-encoded, without the query.
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    http10: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First decoded query value for `key`.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All decoded query values for `key`, also accepting the `key[]` form.
    pub fn query_values(&self, key: &str) -> Vec<String> {
        let array_key = format!("{key}[]");
        self.query
            .iter()
            .filter(|(k, _)| *k == array_key || k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether the connection ends after this request.
    pub fn wants_close(&self) -> bool {
        let connection = self.header("connection").unwrap_or("").to_ascii_lowercase();
        let tokens: Vec<&str> = connection.split(',').map(str::trim).collect();
        tokens.contains(&"close") || (self.http10 && !tokens.contains(&"keep-alive"))
    }
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::raw_json(status, value.to_string())
    }

    /// For JSON built by hand (the duplicate-key ScheduledStatus).
    pub fn raw_json(status: u16, body: String) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.into_bytes(),
        }
    }

    /// Mastodon's error shape: `{"error": "..."}`.
    pub fn error(status: u16, message: &str) -> Response {
        Response::json(status, &serde_json::json!({ "error": message }))
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The headers as they go on the wire: ours plus framing.
    pub fn finish(&self, close: bool) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(k, _)| {
                !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("connection")
            })
            .cloned()
            .collect();
        headers.push(("Content-Length".into(), self.body.len().to_string()));
        if close {
            headers.push(("Connection".into(), "close".into()));
        }
        headers
    }
}

/// Reads one request; `Ok(None)` when the client closed the connection
/// between requests or the server is stopping.
pub fn read_request(
    reader: &mut BufReader<TcpStream>,
    stop: &AtomicBool,
) -> io::Result<Option<Request>> {
    reader.get_ref().set_read_timeout(Some(IDLE_POLL))?;
    // Wait for the first byte in short slices so idle keep-alive connections
    // notice a stopped server.
    loop {
        match reader.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(_) => break,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    reader.get_ref().set_read_timeout(Some(REQUEST_TIMEOUT))?;
    read_started_request(reader).map(Some)
}

fn read_started_request(reader: &mut BufReader<TcpStream>) -> io::Result<Request> {
    let request_line = read_line(reader)?;
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed request line"));
    };
    let headers = read_headers(reader)?;
    let (path, raw_query) = split_target(target);
    let mut request = Request {
        method: method.to_string(),
        query: parse_form(&raw_query),
        path,
        raw_query,
        headers,
        body: Vec::new(),
        http10: version == "HTTP/1.0",
    };
    if request
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    request.body = read_body(reader, &request)?;
    Ok(request)
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            return Ok(headers);
        }
        if headers.len() >= MAX_HEADERS {
            return Err(bad("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("malformed header"))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// Splits `/path?query` (or an absolute-form `http://host/path?query`).
fn split_target(target: &str) -> (String, String) {
    let target = match target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    match target.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (target.to_string(), String::new()),
    }
}

fn read_body(reader: &mut impl BufRead, request: &Request) -> io::Result<Vec<u8>> {
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(reader);
    }
    let length: usize = match request.header("content-length") {
        Some(v) => v.trim().parse().map_err(|_| bad("bad content-length"))?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err(bad("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        if size == 0 {
            // Skip trailers up to the blank line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > MAX_BODY {
            return Err(bad("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        read_line(reader)?; // the CRLF after the chunk data
    }
}

/// One CRLF- (or LF-) terminated line without its terminator.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut buf = Vec::new();
    reader.take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if !buf.ends_with(b"\n") {
        return Err(bad("line too long or connection closed"));
    }
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

pub fn write_response(
    stream: &mut impl Write,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    stream.flush()
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        418 => "I'm a teapot",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// Percent-decoding; with `plus_is_space` for form encoding. Invalid escapes
/// stay as they are, invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `application/x-www-form-urlencoded` pairs (also used for query strings).
pub fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Encodes everything but RFC 3986 unreserved characters (so `[]` becomes
/// `%5B%5D`, as Rails does in its Link headers).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
