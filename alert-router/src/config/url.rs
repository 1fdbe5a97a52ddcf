//! URLs as Alertmanager 0.25 checks them: Go's `net/url.Parse` (with its error
//! messages), then Alertmanager's rule that the scheme is `http` or `https` and the host
//! is not empty.

use crate::config::go_quote::go_quote;

/// The parts of a URL Alertmanager's checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedUrl {
    /// Lower-cased scheme, `""` when there is none.
    pub scheme: String,
    /// Host (and port) after unescaping, `""` when there is none.
    pub host: String,
}

/// Go's `url.Parse`, with Go's error text (`parse "…": …`).
pub(crate) fn go_url_parse(raw: &str) -> Result<ParsedUrl, String> {
    let (u, frag) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    let parsed = parse(u).map_err(|e| format!("parse {}: {e}", go_quote(u)))?;
    if let Some(frag) = frag
        && !frag.is_empty()
    {
        unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {e}", go_quote(raw)))?;
    }
    Ok(parsed)
}

/// Alertmanager's `parseURL`: Go's parse, then `unsupported scheme "x" for URL` unless
/// http(s), then `missing host for URL`.
pub(crate) fn check_alertmanager_url(raw: &str) -> Result<(), String> {
    let u = go_url_parse(raw)?;
    if u.scheme != "http" && u.scheme != "https" {
        return Err(format!(
            "unsupported scheme {} for URL",
            go_quote(&u.scheme)
        ));
    }
    if u.host.is_empty() {
        return Err("missing host for URL".into());
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

fn parse(raw: &str) -> Result<ParsedUrl, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let mut url = ParsedUrl {
        scheme: String::new(),
        host: String::new(),
    };
    if raw == "*" {
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();
    let mut rest = rest;
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest = &rest[..rest.len() - 1];
    } else if let Some((before, _query)) = rest.split_once('?') {
        rest = before;
    }
    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            // An opaque URL (`mailto:x`): no host.
            return Ok(url);
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
            None => (authority_and_path, ""),
        };
        url.host = parse_authority(authority)?;
        rest = path;
    }
    unescape(rest, Mode::Path)?;
    Ok(url)
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<String, String> {
    let at = authority.rfind('@');
    let host = parse_host(match at {
        Some(i) => &authority[i + 1..],
        None => authority,
    })?;
    if let Some(i) = at {
        let userinfo = &authority[..i];
        if !valid_userinfo(userinfo) {
            return Err("net/url: invalid userinfo".into());
        }
        match userinfo.split_once(':') {
            None => {
                unescape(userinfo, Mode::UserPassword)?;
            }
            Some((user, password)) => {
                unescape(user, Mode::UserPassword)?;
                unescape(password, Mode::UserPassword)?;
            }
        }
    }
    Ok(host)
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let colon_port = &host[i + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
        if let Some(zone) = host[..i].find("%25") {
            let h1 = unescape(&host[..zone], Mode::Host)?;
            let h2 = unescape(&host[zone..i], Mode::Zone)?;
            let h3 = unescape(&host[i..], Mode::Host)?;
            return Ok(h1 + &h2 + &h3);
        }
    } else if let Some(i) = host.rfind(':') {
        let colon_port = &host[i..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

fn valid_userinfo(s: &str) -> bool {
    s.chars().all(|r| {
        r.is_ascii_alphanumeric()
            || matches!(
                r,
                '-' | '.'
                    | '_'
                    | ':'
                    | '~'
                    | '!'
                    | '$'
                    | '&'
                    | '\''
                    | '('
                    | ')'
                    | '*'
                    | '+'
                    | ','
                    | ';'
                    | '='
                    | '%'
                    | '@'
            )
    })
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

fn unhex(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `unescape`: validates `%XX` escapes (and host characters) and decodes.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let escape_error = |t: &[u8]| {
        format!(
            "invalid URL escape {}",
            go_quote(&String::from_utf8_lossy(t))
        )
    };
    while i < b.len() {
        match b[i] {
            b'%' => {
                if i + 2 >= b.len()
                    || !b[i + 1].is_ascii_hexdigit()
                    || !b[i + 2].is_ascii_hexdigit()
                {
                    let end = (i + 3).min(b.len());
                    return Err(escape_error(&b[i..end]));
                }
                let v = (unhex(b[i + 1]) << 4) | unhex(b[i + 2]);
                if mode == Mode::Host && unhex(b[i + 1]) < 8 && &b[i..i + 3] != b"%25" {
                    return Err(escape_error(&b[i..i + 3]));
                }
                if mode == Mode::Zone
                    && &b[i..i + 3] != b"%25"
                    && v != b' '
                    && should_escape(v, Mode::Host)
                {
                    return Err(escape_error(&b[i..i + 3]));
                }
                out.push(v);
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&String::from_utf8_lossy(&b[i..i + 1]))
                    ));
                }
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_url_rules() {
        assert_eq!(check_alertmanager_url("http://example.com/hook"), Ok(()));
        assert_eq!(check_alertmanager_url("HTTPS://example.com"), Ok(()));
        assert_eq!(
            check_alertmanager_url("http://user:pw@[::1]:80/x?y#z"),
            Ok(())
        );
        let cases = [
            ("ftp://example.com", "unsupported scheme \"ftp\" for URL"),
            ("example.com", "unsupported scheme \"\" for URL"),
            ("", "unsupported scheme \"\" for URL"),
            ("http://", "missing host for URL"),
            ("http:///path", "missing host for URL"),
            ("http:opaque", "missing host for URL"),
            ("://x", "parse \"://x\": missing protocol scheme"),
            (
                "1http://x",
                "parse \"1http://x\": first path segment in URL cannot contain colon",
            ),
            (
                "http://a b",
                "parse \"http://a b\": invalid character \" \" in host name",
            ),
            (
                "http://x:y",
                "parse \"http://x:y\": invalid port \":y\" after host",
            ),
            ("http://[::1", "parse \"http://[::1\": missing ']' in host"),
            (
                "http://x/%zz",
                "parse \"http://x/%zz\": invalid URL escape \"%zz\"",
            ),
            (
                "http://x/%",
                "parse \"http://x/%\": invalid URL escape \"%\"",
            ),
            (
                "http://x/a\nb",
                "parse \"http://x/a\\nb\": net/url: invalid control character in URL",
            ),
            (
                "http://a^b@x",
                "parse \"http://a^b@x\": net/url: invalid userinfo",
            ),
            (
                "http://x#%zz",
                "parse \"http://x#%zz\": invalid URL escape \"%zz\"",
            ),
            (
                "http://%41",
                "parse \"http://%41\": invalid URL escape \"%41\"",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                check_alertmanager_url(input),
                Err(want.to_string()),
                "{input:?}"
            );
        }
    }
}
