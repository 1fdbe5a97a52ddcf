//! URL and `host:port` checks with Alertmanager 0.25's wording.
//!
//! Alertmanager parses URLs with Go's `net/url` and then requires an `http` or `https`
//! scheme (`unsupported scheme "ftp" for URL`) and a host (`missing host for URL`). The
//! parser here follows Go's rules for the parts those checks look at: the scheme, which
//! Go lowercases, and the authority (`user@host:port`). It is stricter than Go in one
//! way: whitespace anywhere in a URL is refused, since such a URL never works as a
//! notification target.

use crate::error::Result;
use crate::field_path::FieldPath;
use crate::secret::Secret;

/// Checks a notification URL the way Alertmanager's `config.URL` does, returning
/// Alertmanager's message on failure.
///
/// ```
/// use alert_core::endpoint::address::check_http_url;
/// assert_eq!(check_http_url("https://hooks.slack.com/services/T/B/X"), Ok(()));
/// assert_eq!(check_http_url("ftp://x"), Err(r#"unsupported scheme "ftp" for URL"#.to_owned()));
/// assert_eq!(check_http_url("http:///path"), Err("missing host for URL".to_owned()));
/// ```
pub fn check_http_url(url: &str) -> std::result::Result<(), String> {
    check_url(url, &["http", "https"])
}

/// Checks a proxy URL: like [`check_http_url`], also allowing `socks5`.
///
/// Alertmanager itself only parses `proxy_url`; a proxy without scheme or host cannot
/// work, so this check is stricter.
pub fn check_proxy_url(url: &str) -> std::result::Result<(), String> {
    check_url(url, &["http", "https", "socks5"])
}

/// Checks an SMTP `host:port` as Alertmanager's `HostPort` does (Go's
/// `net.SplitHostPort`, then a non-empty port), and additionally requires a host and
/// refuses whitespace.
///
/// ```
/// use alert_core::endpoint::address::check_host_port;
/// assert_eq!(check_host_port("smtp.example.org:587"), Ok(()));
/// assert_eq!(check_host_port("[::1]:25"), Ok(()));
/// assert_eq!(
///     check_host_port("localhost"),
///     Err("address localhost: missing port in address".to_owned())
/// );
/// ```
pub fn check_host_port(address: &str) -> std::result::Result<(), String> {
    let fail = |what: &str| Err(format!("address {address}: {what}"));
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    // Go's net.SplitHostPort, step for step.
    let Some(last_colon) = address.rfind(':') else {
        return fail(MISSING_PORT);
    };
    let (host, from, to) = if address.starts_with('[') {
        let Some(end) = address.find(']') else {
            return fail("missing ']' in address");
        };
        if end + 1 == address.len() {
            return fail(MISSING_PORT);
        }
        if end + 1 != last_colon {
            return fail(if address.as_bytes()[end + 1] == b':' {
                TOO_MANY_COLONS
            } else {
                MISSING_PORT
            });
        }
        (&address[1..end], 1, end + 1)
    } else {
        let host = &address[..last_colon];
        if host.contains(':') {
            return fail(TOO_MANY_COLONS);
        }
        (host, 0, 0)
    };
    if address[from..].contains('[') {
        return fail("unexpected '[' in address");
    }
    if address[to..].contains(']') {
        return fail("unexpected ']' in address");
    }
    let port = &address[last_colon + 1..];
    // Alertmanager's HostPort adds the empty-port check; the host checks are ours.
    if port.is_empty() {
        return Err(format!("address {address:?}: port cannot be empty"));
    }
    if host.is_empty() {
        return fail("missing host in address");
    }
    if address.chars().any(char::is_whitespace) {
        return fail("whitespace in address");
    }
    Ok(())
}

fn check_url(url: &str, schemes: &[&str]) -> std::result::Result<(), String> {
    if url.chars().any(|c| c.is_control()) {
        return Err("net/url: invalid control character in URL".to_owned());
    }
    if url.chars().any(char::is_whitespace) {
        return Err("whitespace in URL".to_owned());
    }
    // Go's getScheme: letters first, then letters, digits, `+ - .`, up to a `:`. Any other
    // character before a `:` means there is no scheme at all.
    // Go refuses malformed `%` escapes everywhere but in the query, which it keeps raw.
    let (before_query, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, f),
        None => (url, ""),
    };
    let unqueried = before_query.split('?').next().unwrap_or_default();
    for part in [unqueried, fragment] {
        for (i, _) in part.match_indices('%') {
            let escape = part.get(i..i + 3).unwrap_or(&part[i..]);
            let valid = escape.len() == 3 && escape[1..].bytes().all(|b| b.is_ascii_hexdigit());
            if !valid {
                return Err(format!("invalid URL escape {escape:?}"));
            }
        }
    }
    let (scheme, rest) = match url.find(':') {
        Some(0) => return Err("missing protocol scheme".to_owned()),
        Some(i)
            if url.as_bytes()[0].is_ascii_alphabetic()
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) =>
        {
            (url[..i].to_ascii_lowercase(), &url[i + 1..])
        }
        _ => (String::new(), url),
    };
    if !schemes.contains(&scheme.as_str()) {
        return Err(format!("unsupported scheme {scheme:?} for URL"));
    }
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return Err("missing host for URL".to_owned());
    };
    let without_fragment = after_slashes.split('#').next().unwrap_or_default();
    let without_query = without_fragment.split('?').next().unwrap_or_default();
    let authority = without_query.split('/').next().unwrap_or_default();
    let host = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    if host.is_empty() {
        return Err("missing host for URL".to_owned());
    }
    check_url_host(host)
}

/// Go's `parseHost` checks on `host[:port]`.
fn check_url_host(host: &str) -> std::result::Result<(), String> {
    let port = if let Some(rest) = host.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("missing ']' in host".to_owned());
        };
        let after = &rest[end + 1..];
        if !after.is_empty() && !after.starts_with(':') {
            return Err(format!("invalid port {after:?} after host"));
        }
        after
    } else {
        match host.rfind(':') {
            Some(colon) => &host[colon..],
            None => "",
        }
    };
    if !port.is_empty() && !port[1..].bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid port {port:?} after host"));
    }
    // Go's `shouldEscape(c, encodeHost)`: ASCII outside this set is refused; non-ASCII
    // (internationalised names) and `%` escapes pass.
    let allowed = |c: char| {
        !c.is_ascii() || c.is_ascii_alphanumeric() || "-_.~!$&'()*+,;=:[]<>\"%".contains(c)
    };
    if let Some(c) = host.chars().find(|c| !allowed(*c)) {
        return Err(format!("invalid character {c:?} in host name"));
    }
    Ok(())
}

/// Checks a plain URL field, naming `path` and quoting the value on failure.
pub(crate) fn check_url_field(path: &FieldPath, url: &str) -> Result<()> {
    path.require(url)?;
    check_http_url(url).map_err(|reason| path.invalid(url, reason))
}

/// Checks a URL held in a [`Secret`]: the error names `path` but never shows the value.
pub(crate) fn check_secret_url_field(path: &FieldPath, url: &Secret) -> Result<()> {
    path.require(url.expose())?;
    check_http_url(url.expose()).map_err(|reason| path.invalid(Secret::REDACTED, reason))
}

/// Checks an optional plain URL field.
pub(crate) fn check_optional_url_field(path: &FieldPath, url: Option<&str>) -> Result<()> {
    match url {
        Some(url) => check_url_field(path, url),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_url_rules() {
        for ok in [
            "http://x",
            "HTTPS://Example.org:8443/a/b?c=d#e",
            "http://user:pass@host/p",
            "http://[::1]:9093/",
            "http://:80",
            "http://127.0.0.1:9093/api/v2/alerts",
        ] {
            assert_eq!(check_http_url(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("ftp://x", r#"unsupported scheme "ftp" for URL"#),
            ("FTP://x", r#"unsupported scheme "ftp" for URL"#),
            ("hooks.slack.com/x", r#"unsupported scheme "" for URL"#),
            (
                "localhost:8080",
                r#"unsupported scheme "localhost" for URL"#,
            ),
            ("", r#"unsupported scheme "" for URL"#),
            (":x", "missing protocol scheme"),
            ("http:///path", "missing host for URL"),
            ("http:x", "missing host for URL"),
            ("http://user@/p", "missing host for URL"),
            ("http://?q", "missing host for URL"),
            ("http://host:port/", r#"invalid port ":port" after host"#),
            ("http://[::1/", "missing ']' in host"),
            ("http://a b/", "whitespace in URL"),
            (
                "http://a\u{7}/",
                "net/url: invalid control character in URL",
            ),
            ("http://a{b/", "invalid character '{' in host name"),
            ("http://a|b/", "invalid character '|' in host name"),
            ("http://a%zzb/", "invalid URL escape \"%zz\""),
            ("http://a/%4", "invalid URL escape \"%4\""),
        ];
        for (url, want) in cases {
            assert_eq!(check_http_url(url), Err(want.to_owned()), "{url:?}");
        }
        assert_eq!(check_proxy_url("socks5://p:1080"), Ok(()));
        assert!(check_http_url("socks5://p:1080").is_err());
    }

    #[test]
    fn host_port_rules() {
        for ok in ["h:25", "smtp.example.org:smtp", "[::1]:25", "1.2.3.4:587"] {
            assert_eq!(check_host_port(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("localhost", "address localhost: missing port in address"),
            ("a:b:c", "address a:b:c: too many colons in address"),
            ("h:", "address \"h:\": port cannot be empty"),
            (":25", "address :25: missing host in address"),
            ("[::1", "address [::1: missing ']' in address"),
            ("[::1]", "address [::1]: missing port in address"),
            ("[::1]x:2", "address [::1]x:2: missing port in address"),
            ("[::1]:2:3", "address [::1]:2:3: too many colons in address"),
            ("a]:2", "address a]:2: unexpected ']' in address"),
            ("a[:2", "address a[:2: unexpected '[' in address"),
        ];
        for (addr, want) in cases {
            assert_eq!(check_host_port(addr), Err(want.to_owned()), "{addr:?}");
        }
    }

    #[test]
    fn secret_urls_are_not_echoed() {
        let path = FieldPath::root("slack").field("api_url");
        let err = check_secret_url_field(&path, &Secret::new("ftp://token@x")).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("token"), "{text}");
        assert_eq!(
            text,
            r#"slack.api_url: unsupported scheme "ftp" for URL, got "<secret>""#
        );
        let err = check_url_field(&path, "ftp://x").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"slack.api_url: unsupported scheme "ftp" for URL, got "ftp://x""#
        );
        assert_eq!(
            check_url_field(&path, "").unwrap_err().to_string(),
            "slack.api_url: missing required value"
        );
    }
}
