//! Credentials out of text that is shown: messages, status pages, API answers.
//!
//! - [`redact_urls`]: every URL in a text with its `user:password@` and the values of
//!   query parameters that carry credentials ([`is_secret_param`]) replaced by
//!   [`Secret::REDACTED`]. A bare URL is a text with one URL in it.
//! - [`redact_secrets`]: known secret values (what was just posted, say) replaced
//!   wherever a text echoes them, also JSON-, Go- or percent-escaped.
//! - [`redact_unexpected_values`]: serde's (and Go yaml.v2's) type errors without the
//!   value they quote (`invalid type: string "…", expected struct PagerDutyEndpoint`).
//!
//! Each function is idempotent and leaves text without credentials as it is.
//!
//! ```
//! use alert_core::redact::redact_urls;
//!
//! assert_eq!(
//!     redact_urls("GET http://admin:hunter2@am:9093/api/v2/alerts?token=t0k&active=true: refused"),
//!     "GET http://<secret>@am:9093/api/v2/alerts?token=<secret>&active=true: refused"
//! );
//! ```

use crate::secret::Secret;

/// Query parameter names (compared without case) whose values are credentials. A name
/// also counts when it ends in `_`, `-` or `.` and one of [`SECRET_PARAM_SUFFIXES`]
/// (`access_token`, `client_secret`, `X-Amz-Signature`).
pub const SECRET_PARAMS: [&str; 11] = [
    "token",
    "access_token",
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "key",
    "sig",
    "signature",
    "auth",
];

/// The endings that make a query parameter name a credential's (see [`SECRET_PARAMS`]).
pub const SECRET_PARAM_SUFFIXES: [&str; 7] = [
    "token",
    "secret",
    "password",
    "passwd",
    "signature",
    "key",
    "apikey",
];

/// Whether a query parameter named `name` carries a credential ([`SECRET_PARAMS`],
/// case-insensitive, or a name ending in `_token`, `-secret`, `.signature`, …).
///
/// ```
/// use alert_core::redact::is_secret_param;
/// assert!(is_secret_param("Token"));
/// assert!(is_secret_param("X-Amz-Signature"));
/// assert!(is_secret_param("client_secret"));
/// assert!(!is_secret_param("active"));
/// assert!(!is_secret_param("monkey"));
/// ```
pub fn is_secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if SECRET_PARAMS.contains(&name.as_str()) {
        return true;
    }
    SECRET_PARAM_SUFFIXES.iter().any(|suffix| {
        name.strip_suffix(suffix)
            .is_some_and(|head| head.ends_with(['_', '-', '.']))
    })
}

/// `text` with every URL in it redacted: the userinfo (`user:password@`) becomes
/// `<secret>@`, and the value of every query (or fragment) parameter named as a
/// credential ([`is_secret_param`]) becomes `<secret>`. Anything else is kept.
///
/// A URL is found by its `://` and ends at white space, a quote, `<`, `>` or a backtick;
/// trailing `)`, `]`, `,`, `.`, `;`, `:` and `!` are taken as the text's, not the URL's.
/// A comma list of URLs (`http://a:2379,http://root:pw@b:2379`, etcd's) is redacted URL
/// by URL, and so is a URL in another's query value.
///
/// ```
/// use alert_core::redact::redact_urls;
///
/// assert_eq!(redact_urls("http://u:p@h:9095/x?token=abc&a=1"), "http://<secret>@h:9095/x?token=<secret>&a=1");
/// assert_eq!(redact_urls("etcd:http://h1:2379,http://root:pw@h2:2379"), "etcd:http://h1:2379,http://<secret>@h2:2379");
/// assert_eq!(redact_urls("for url (https://h/p?api_key=1)"), "for url (https://h/p?api_key=<secret>)");
/// assert_eq!(redact_urls("no URL here: a@b"), "no URL here: a@b");
/// ```
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(sep) = rest.find("://") {
        out.push_str(&rest[..sep + 3]);
        let after = &rest[sep + 3..];
        let end = url_end(after);
        let url = &after[..end];
        let mut authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        // `a:1,http://b:2`: the next URL starts inside what looks like this authority.
        let mut next_url = false;
        if let Some(next) = url.find("://")
            && next < authority_end
        {
            authority_end = scheme_start(url, next);
            next_url = true;
        }
        let authority = &url[..authority_end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(Secret::REDACTED);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        if next_url {
            rest = &after[authority_end..];
            continue;
        }
        let tail = &url[authority_end..];
        let (path, params) = match tail.find(['?', '#']) {
            Some(i) => tail.split_at(i),
            None => (tail, ""),
        };
        out.push_str(path);
        redact_params(params, &mut out);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Where the URL that starts `text` (just after its `://`) ends.
fn url_end(text: &str) -> usize {
    let mut end = 0;
    while let Some(c) = text[end..].chars().next() {
        if text[end..].starts_with(Secret::REDACTED) {
            // What an earlier redaction left is part of the URL.
            end += Secret::REDACTED.len();
            continue;
        }
        if c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`') {
            break;
        }
        end += c.len_utf8();
    }
    text[..end]
        .trim_end_matches([')', ']', ',', '.', ';', ':', '!'])
        .len()
}

/// Where the scheme that ends at `sep` (the index of `://` in `text`) starts.
fn scheme_start(text: &str, sep: usize) -> usize {
    let scheme_len = text[..sep]
        .bytes()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        .count();
    sep - scheme_len
}

/// Appends `params` (`?a=1&b=2#c=3`, or empty) with credentials' values redacted.
fn redact_params(params: &str, out: &mut String) {
    let mut rest = params;
    while let Some(delimiter) = rest.chars().next() {
        out.push(delimiter);
        rest = &rest[delimiter.len_utf8()..];
        let end = rest.find(['&', '?', '#']).unwrap_or(rest.len());
        let pair = &rest[..end];
        match pair.split_once('=') {
            Some((name, _)) if is_secret_param(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(Secret::REDACTED);
            }
            Some((name, value)) => {
                out.push_str(name);
                out.push('=');
                out.push_str(&redact_urls(value));
            }
            None => out.push_str(pair),
        }
        rest = &rest[end..];
    }
}

/// `text` with every occurrence of each of `secrets` replaced by `<secret>`: as it is,
/// JSON-escaped, Go-quoted (`%q`, without the quotes) and percent-encoded. Longer
/// secrets are replaced first; empty ones and `<secret>` itself are skipped.
///
/// For text that may echo what was sent, such as a backend's error body: the caller
/// knows what it sent. Every occurrence is replaced, even inside other words, so a
/// very short secret garbles the text rather than showing in it.
///
/// ```
/// use alert_core::redact::redact_secrets;
///
/// let body = r#"400: bad config: {"routing_key": "r0ut!ng\"key"} (r0ut%21ng%22key)"#;
/// assert_eq!(
///     redact_secrets(body, ["r0ut!ng\"key"]),
///     r#"400: bad config: {"routing_key": "<secret>"} (<secret>)"#
/// );
/// ```
pub fn redact_secrets<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets {
        if secret.is_empty() || secret == Secret::REDACTED {
            continue;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let go = crate::go_quote::go_quote(secret);
        for form in [
            secret.to_owned(),
            unquote(&json).to_owned(),
            unquote(&go).to_owned(),
            percent_encode(secret),
        ] {
            if !form.is_empty() && !forms.contains(&form) {
                forms.push(form);
            }
        }
    }
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    let mut out = text.to_owned();
    for form in &forms {
        if out.contains(form.as_str()) {
            out = out.replace(form.as_str(), Secret::REDACTED);
        }
    }
    out
}

/// `s` without its first and last character (the quotes of a quoted string).
fn unquote(s: &str) -> &str {
    s.get(1..s.len().saturating_sub(1)).unwrap_or_default()
}

/// RFC 3986 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~` as `%XX`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `message` with the values serde and Go's yaml.v2 quote in type and value errors left
/// out: `invalid type: string "SECRET", expected struct PagerDutyEndpoint` becomes
/// `invalid type: string, expected struct PagerDutyEndpoint`, likewise for `integer`,
/// `floating point`, `boolean` and `char` values and for `invalid value: …`; and
/// yaml.v2's (and so Alertmanager's) ``cannot unmarshal !!str `SECRET-...` into
/// config.plain`` becomes `cannot unmarshal !!str into config.plain`. The kind of
/// value, what was expected, and any path, line and column are kept.
///
/// For errors of documents that carry credentials (spec files, endpoints, Alertmanager
/// configurations), where the value a type error quotes may be one: with the line and
/// column, the value adds nothing the user's file does not show.
///
/// ```
/// use alert_core::redact::redact_unexpected_values;
///
/// assert_eq!(
///     redact_unexpected_values(r#"endpoints[0].pagerduty: invalid type: string "k\"ey", expected struct PagerDutyEndpoint at line 2 column 28"#),
///     "endpoints[0].pagerduty: invalid type: string, expected struct PagerDutyEndpoint at line 2 column 28"
/// );
/// assert_eq!(
///     redact_unexpected_values("invalid value: integer `-1`, expected u64"),
///     "invalid value: integer, expected u64"
/// );
/// assert_eq!(
///     redact_unexpected_values("line 4: cannot unmarshal !!str `SECRET-...` into config.plain"),
///     "line 4: cannot unmarshal !!str into config.plain"
/// );
/// ```
pub fn redact_unexpected_values(message: &str) -> String {
    const LEADS: [&str; 3] = ["invalid type: ", "invalid value: ", "cannot unmarshal "];
    const KINDS: [&str; 5] = [
        "string ",
        "integer ",
        "floating point ",
        "boolean ",
        "char ",
    ];
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, lead)) = LEADS
        .iter()
        .filter_map(|lead| rest.find(lead).map(|at| (at, *lead)))
        .min()
    {
        let after_lead = at + lead.len();
        out.push_str(&rest[..after_lead]);
        rest = &rest[after_lead..];
        // serde's kinds of value, or a YAML tag (`!!str `, `!!int `).
        let kind_len = match KINDS.iter().find(|k| rest.starts_with(**k)) {
            Some(kind) => kind.len(),
            None if rest.starts_with("!!") => match rest.find(' ') {
                Some(space) => space + 1,
                None => continue,
            },
            None => continue,
        };
        let (kind, value) = rest.split_at(kind_len);
        let value_len = match value.chars().next() {
            Some('"') => quoted_len(value),
            Some('`') => value[1..].find('`').map(|i| i + 2),
            _ => None,
        };
        if let Some(len) = value_len {
            out.push_str(kind.trim_end());
            rest = &value[len..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of the Rust-escaped string literal that starts `s` (at its `"`).
fn quoted_len(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_lose_userinfo_and_secret_params() {
        for (given, shown) in [
            ("sqlite:./x.db", "sqlite:./x.db"),
            ("http://h:1/p", "http://h:1/p"),
            (
                "https://user@h/p?api_key=1",
                "https://<secret>@h/p?api_key=<secret>",
            ),
            ("http://u:p@h", "http://<secret>@h"),
            ("http://u:p%40x@h:1/", "http://<secret>@h:1/"),
            ("http://@h/", "http://@h/"),
            (
                "http://h/x?A=1&Access_Token=2&sig=3&b=&c&X-Amz-Signature=4#auth=5",
                "http://h/x?A=1&Access_Token=<secret>&sig=<secret>&b=&c&X-Amz-Signature=<secret>#auth=<secret>",
            ),
            (
                "http://h/login?next=http://u:p@i/?token=t",
                "http://h/login?next=http://<secret>@i/?token=<secret>",
            ),
            (
                "a http://u:p@h/x. and \"https://v:q@i?key=k\", then (ws://w:r@j/?password=z)",
                "a http://<secret>@h/x. and \"https://<secret>@i?key=<secret>\", then (ws://<secret>@j/?password=<secret>)",
            ),
            (
                "GET http://u:p@h:1/api/v2/alerts?token=t: error",
                "GET http://<secret>@h:1/api/v2/alerts?token=<secret>: error",
            ),
            (
                "etcd:http://a:1,http://r:pw@b:2/p,https://c:3",
                "etcd:http://a:1,http://<secret>@b:2/p,https://c:3",
            ),
            ("://u:p@h", "://<secret>@h"),
            ("http://", "http://"),
            ("http://u:p@", "http://<secret>@"),
            (
                "é http://ü:ß@h/ä?token=é ö",
                "é http://<secret>@h/ä?token=<secret> ö",
            ),
        ] {
            assert_eq!(redact_urls(given), shown, "{given}");
            assert_eq!(redact_urls(shown), shown, "idempotent: {shown}");
        }
    }

    #[test]
    fn secrets_are_replaced_in_every_form() {
        assert_eq!(
            redact_secrets("k=hunter2 j=\"hunter2\" p=hunter2x", ["hunter2", ""]),
            "k=<secret> j=\"<secret>\" p=<secret>x"
        );
        assert_eq!(
            redact_secrets(r"a\/b a/b a%2Fb", ["a/b"]),
            r"a\/b <secret> <secret>"
        );
        assert_eq!(redact_secrets("x\\ny x\ny", ["x\ny"]), "<secret> <secret>");
        assert_eq!(redact_secrets("ab abc", ["ab", "abc"]), "<secret> <secret>");
        assert_eq!(redact_secrets("<secret>", ["<secret>"]), "<secret>");
    }

    #[test]
    fn unexpected_values_are_left_out() {
        for (given, shown) in [
            (
                r#"invalid type: string "a\"b, c", expected struct X at line 1 column 2"#,
                "invalid type: string, expected struct X at line 1 column 2",
            ),
            (
                "x: invalid type: floating point `1.5`, expected a string; y: invalid type: char `c`, expected u8",
                "x: invalid type: floating point, expected a string; y: invalid type: char, expected u8",
            ),
            (
                "invalid type: boolean `true`, expected a map",
                "invalid type: boolean, expected a map",
            ),
            (
                "invalid type: sequence, expected a string",
                "invalid type: sequence, expected a string",
            ),
            (
                r#"invalid type: string "unterminated"#,
                r#"invalid type: string "unterminated"#,
            ),
            ("unknown field `x`", "unknown field `x`"),
            (
                "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `SECRET-...` into config.plain\n  line 5: cannot unmarshal !!seq into string",
                "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str into config.plain\n  line 5: cannot unmarshal !!seq into string",
            ),
            ("cannot unmarshal !!str", "cannot unmarshal !!str"),
        ] {
            assert_eq!(redact_unexpected_values(given), shown, "{given}");
        }
    }

    #[test]
    fn serde_errors_lose_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Endpoint {
            key: String,
        }
        let json = serde_json::from_str::<Endpoint>(r#""s3cr3t""#).unwrap_err();
        let yaml = yaml_serde::from_str::<Vec<Endpoint>>("- s3cr3t\n").unwrap_err();
        for e in [json.to_string(), yaml.to_string()] {
            assert!(e.contains("s3cr3t"), "serde quotes it: {e}");
            let shown = redact_unexpected_values(&e);
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(
                shown.contains("invalid type: string, expected struct Endpoint"),
                "{shown}"
            );
        }
    }

    proptest! {
        /// Userinfo and secret parameter values never survive, whatever surrounds the URL.
        #[test]
        fn credentials_never_survive(
            before in "[ -~]{0,12}",
            user in "[a-z]{1,6}",
            password in "[A-Za-z0-9%!$*+,;=-]{6,12}",
            token in "[A-Za-z0-9._~-]{6,12}",
            param in prop::sample::select(SECRET_PARAMS.to_vec()),
            after in "( [ -~]{0,12})?",
        ) {
            let url = format!("https://{user}:{password}@host:9093/p?a=1&{param}={token}#f");
            let text = format!("{before} {url}{after}");
            let shown = redact_urls(&text);
            prop_assert!(!shown.contains(&format!("{user}:{password}")), "{shown}");
            prop_assert!(!shown.contains(&format!("={token}")), "{shown}");
            prop_assert_eq!(redact_urls(&shown), shown.clone());
            prop_assert_eq!(redact_secrets(&text, [password.as_str()]).contains(&password), false);
        }
    }
}
