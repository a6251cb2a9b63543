//! The server's base URL, and request URLs built from it with every path
//! segment and query value percent-encoded.

/// A checked server base URL: `scheme://authority` plus an optional path
/// prefix without a trailing slash.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseUrl {
    origin: String,
    prefix: String,
}

impl BaseUrl {
    /// Checks the host's server URL. Plain `http` is accepted only for
    /// loopback hosts, since the token would otherwise cross the network in
    /// clear text.
    pub fn parse(raw: &str) -> Result<BaseUrl, String> {
        let raw = raw.trim();
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err("the server URL contains spaces or control characters".into());
        }
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| {
            format!("the server URL `{raw}` has no scheme (expected https://host)")
        })?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(format!("the server URL must use https, not `{scheme}`"));
        }
        if rest.contains('?') || rest.contains('#') {
            return Err("the server URL must not have a query or fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("the server URL must not contain credentials".into());
        }
        let host = host_of(authority).ok_or("the server URL has no valid host")?;
        if scheme == "http" && !is_loopback(&host) {
            return Err(format!(
                "plain http is allowed only for loopback addresses, not `{host}`: use https"
            ));
        }
        Ok(BaseUrl {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// The URL of an API path given as segments: literal segments are written
    /// as they are, `Segment::Value` ones percent-encoded.
    pub fn endpoint(&self, segments: &[Segment], query: &Query) -> String {
        let mut url = format!("{}{}", self.origin, self.prefix);
        for segment in segments {
            url.push('/');
            match segment {
                Segment::Fixed(text) => url.push_str(text),
                Segment::Value(text) => encode_into(&mut url, text),
            }
        }
        if !query.0.is_empty() {
            url.push('?');
            url.push_str(&query.0);
        }
        url
    }
}

/// One path segment of an endpoint.
pub enum Segment<'a> {
    /// A fixed part of the API path, such as `api` or `statuses`.
    Fixed(&'a str),
    /// A caller-supplied value, such as an id; always percent-encoded.
    Value(&'a str),
}

/// A query string under construction; names and values are percent-encoded.
#[derive(Default)]
pub struct Query(String);

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds `name=value`.
    pub fn add(&mut self, name: &str, value: &str) -> &mut Query {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_into(&mut self.0, name);
        self.0.push('=');
        encode_into(&mut self.0, value);
        self
    }

    /// Adds `name=value` when there is a value.
    pub fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Query {
        if let Some(value) = value {
            self.add(name, value);
        }
        self
    }

    /// Adds `name=true` when the flag is set; servers treat absence as false.
    pub fn flag(&mut self, name: &str, on: bool) -> &mut Query {
        if on {
            self.add(name, "true");
        }
        self
    }

    /// Adds `name=value` for a number, when there is one.
    pub fn number(&mut self, name: &str, value: Option<u32>) -> &mut Query {
        if let Some(value) = value {
            self.add(name, &value.to_string());
        }
        self
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Decodes `%XX` escapes and `+` (form encoding) in a query value taken from
/// a server's `Link` header.
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high * 16 + low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// The host part of an authority, without port or IPv6 brackets.
fn host_of(authority: &str) -> Option<String> {
    let host = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || valid_port(after.strip_prefix(':')?)) {
            return None;
        }
        inside.to_string()
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        if port.is_some_and(|p| !valid_port(p)) {
            return None;
        }
        host.to_string()
    };
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    ok.then(|| host.to_ascii_lowercase())
}

fn valid_port(port: &str) -> bool {
    !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u32>().is_ok_and(|p| p <= 65_535)
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host == "::1" {
        return true;
    }
    let octets: Vec<&str> = host.split('.').collect();
    octets.len() == 4
        && octets[0] == "127"
        && octets
            .iter()
            .all(|o| !o.is_empty() && o.len() <= 3 && o.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        let base = BaseUrl::parse("https://Mastodon.Example/").unwrap();
        assert_eq!(
            base.endpoint(&[Segment::Fixed("api")], &Query::new()),
            "https://mastodon.example/api"
        );
        for ok in [
            "http://127.0.0.1:3000",
            "http://localhost",
            "http://[::1]:8080/m",
            "https://h.example:443/prefix/",
        ] {
            assert!(BaseUrl::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_unsafe_server_urls() {
        for bad in [
            "ftp://h.example",
            "h.example",
            "http://h.example",
            "http://10.0.0.1",
            "https://h.example/?q=1",
            "https://h.example/#x",
            "https://u:p@h.example",
            "https://h ex",
            "https://",
            "https://h.example:99999",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_values_in_paths_and_queries() {
        let base = BaseUrl::parse("https://h.example/sub").unwrap();
        let mut query = Query::new();
        query
            .add("acct", "a b&c=d")
            .flag("local", true)
            .flag("remote", false)
            .add("any[]", "é");
        let url = base.endpoint(
            &[Segment::Fixed("api"), Segment::Value("../x/y?z#")],
            &query,
        );
        assert_eq!(url, "https://h.example/sub/api/..%2Fx%2Fy%3Fz%23?acct=a%20b%26c%3Dd&local=true&any%5B%5D=%C3%A9");
    }

    #[test]
    fn decodes_link_values() {
        assert_eq!(decode_component("a%20b+c%2F%zz%"), "a b c/%zz%");
    }
}
