//! `host:port` addresses (`smtp_smarthost`, email `smarthost`), checked as Alertmanager's
//! `HostPort` does with Go's `net.SplitHostPort`.

use crate::config::go_quote::go_quote;

/// Checks a non-empty `host:port` address, with Go's and Alertmanager's messages
/// (`address localhost: missing port in address`, `address "x:": port cannot be empty`).
pub(crate) fn check_host_port(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let port = split_host_port(s).map_err(|why| format!("address {s}: {why}"))?;
    if port.is_empty() {
        return Err(format!("address {}: port cannot be empty", go_quote(s)));
    }
    Ok(())
}

/// Go's `net.SplitHostPort`, returning the port or the reason it failed.
fn split_host_port(hostport: &str) -> Result<&str, &'static str> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let Some(i) = hostport.rfind(':') else {
        return Err(MISSING_PORT);
    };
    let (mut j, mut k) = (0, 0);
    if hostport.starts_with('[') {
        let Some(end) = hostport.find(']') else {
            return Err("missing ']' in address");
        };
        if end + 1 == hostport.len() {
            return Err(MISSING_PORT);
        } else if end + 1 != i {
            if hostport.as_bytes()[end + 1] == b':' {
                return Err(TOO_MANY_COLONS);
            }
            return Err(MISSING_PORT);
        }
        (j, k) = (1, end + 1);
    } else if hostport[..i].contains(':') {
        return Err(TOO_MANY_COLONS);
    }
    if hostport[j..].contains('[') {
        return Err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return Err("unexpected ']' in address");
    }
    Ok(&hostport[i + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_go_split_host_port() {
        for ok in [
            "localhost:25",
            "[::1]:25",
            ":25",
            "smtp.example.org:587",
            "",
        ] {
            assert_eq!(check_host_port(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("localhost", "address localhost: missing port in address"),
            ("a:b:c", "address a:b:c: too many colons in address"),
            ("[::1", "address [::1: missing ']' in address"),
            ("[::1]", "address [::1]: missing port in address"),
            ("[::1]x:25", "address [::1]x:25: missing port in address"),
            (
                "[::1]:25:1",
                "address [::1]:25:1: too many colons in address",
            ),
            ("a[:25", "address a[:25: unexpected '[' in address"),
            ("a]:25", "address a]:25: unexpected ']' in address"),
            ("localhost:", "address \"localhost:\": port cannot be empty"),
        ];
        for (input, want) in cases {
            assert_eq!(check_host_port(input), Err(want.to_string()), "{input}");
        }
    }
}
