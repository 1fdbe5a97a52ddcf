//! Optional credentials on the webhook and the API: a bearer token or basic auth, as
//! Alertmanager's `webhook_configs.http_config` can send them.

use std::path::Path;

use axum::http::{HeaderMap, header};

use crate::{Error, Result};

/// What requests must carry.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// The user.
        user: String,
        /// The password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    /// Never shows the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Bearer(_) => f.write_str("Auth::Bearer(<secret>)"),
            Auth::Basic { user, .. } => write!(f, "Auth::Basic({user}, <secret>)"),
        }
    }
}

impl Auth {
    /// `Authorization: Bearer <token>` with the token in `path`, read as Alertmanager's
    /// HTTP client (prometheus/common `credentials_file`) reads it: surrounding
    /// whitespace trimmed. An unreadable or empty file is an error: a server started
    /// with it would admit nobody.
    pub fn bearer_from_file(path: &Path) -> Result<Auth> {
        Ok(Auth::Bearer(read_credential(path)?))
    }

    /// Basic auth as `user` with the password in `path`, trimmed as
    /// prometheus/common trims `password_file`; an unreadable or empty file is an
    /// error.
    pub fn basic_from_file(user: &str, path: &Path) -> Result<Auth> {
        Ok(Auth::Basic {
            user: user.to_owned(),
            password: read_credential(path)?,
        })
    }

    /// The scheme and the credentials that are accepted.
    fn expected(&self) -> (&'static str, String) {
        match self {
            Auth::Bearer(token) => ("bearer", token.clone()),
            Auth::Basic { user, password } => (
                "basic",
                alert_core::base64::encode(format!("{user}:{password}").as_bytes()),
            ),
        }
    }

    /// Whether `headers` carry the credentials. The scheme is matched in any case
    /// (RFC 7235 §2.1: `bearer`, `BEARER` and `Bearer` are one scheme); the
    /// credentials are compared in constant time.
    ///
    /// ```
    /// use alert_history::server::Auth;
    /// use axum::http::{HeaderMap, HeaderValue};
    /// let auth = Auth::Basic { user: "am".into(), password: "secret".into() };
    /// let mut h = HeaderMap::new();
    /// assert!(!auth.admits(&h));
    /// h.insert("authorization", HeaderValue::from_static("Basic YW06c2VjcmV0"));
    /// assert!(auth.admits(&h));
    /// h.insert("authorization", HeaderValue::from_static("basic YW06c2VjcmV0"));
    /// assert!(auth.admits(&h));
    /// ```
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some((scheme, credentials)) = given.trim().split_once(' ') else {
            return false;
        };
        let (expected_scheme, expected) = self.expected();
        if !scheme.eq_ignore_ascii_case(expected_scheme) {
            return false;
        }
        let given = credentials.trim_start_matches(' ').as_bytes();
        let expected = expected.as_bytes();
        given.len() == expected.len()
            && given
                .iter()
                .zip(expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The credential in `path`, surrounding whitespace trimmed (Go's `strings.TrimSpace`,
/// as prometheus/common reads credential and password files).
fn read_credential(path: &Path) -> Result<String> {
    let bad = |reason: String| Error::CredentialFile {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad(
            "the credential file is empty: a server using it would admit nobody".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let auth = Auth::Bearer("t0ken".into());
        assert!(auth.admits(&with("Bearer t0ken")));
        assert!(!auth.admits(&with("Bearer t0ke")));
        assert!(!auth.admits(&with("Bearer t0kem")));
        assert!(!auth.admits(&with("Basic t0ken")));
        assert!(!auth.admits(&with("Bearer")));
        assert!(!auth.admits(&with("Bearert0ken")));
        assert!(!format!("{auth:?}").contains("t0ken"));
    }

    /// RFC 7235 §2.1: the auth scheme is case-insensitive, and one or more spaces
    /// separate it from the credentials.
    #[test]
    fn the_scheme_is_matched_in_any_case() {
        let bearer = Auth::Bearer("t0ken".into());
        for v in [
            "bearer t0ken",
            "BEARER t0ken",
            "bEaReR t0ken",
            "Bearer  t0ken",
            " Bearer t0ken ",
        ] {
            assert!(bearer.admits(&with(v)), "{v}");
        }
        assert!(
            !bearer.admits(&with("bearer T0KEN")),
            "credentials keep their case"
        );
        let basic = Auth::Basic {
            user: "am".into(),
            password: "secret".into(),
        };
        for v in [
            "basic YW06c2VjcmV0",
            "BASIC YW06c2VjcmV0",
            "Basic YW06c2VjcmV0",
        ] {
            assert!(basic.admits(&with(v)), "{v}");
        }
        assert!(!basic.admits(&with("bearer YW06c2VjcmV0")));
    }

    /// Credential files are trimmed as prometheus/common trims them; an empty one is
    /// refused.
    #[test]
    fn credential_files_are_trimmed_and_must_not_be_empty() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).expect("write");
            p
        };
        let auth = Auth::bearer_from_file(&file("token", " \ts3cret \r\n")).expect("token");
        assert!(auth.admits(&with("Bearer s3cret")));
        let auth = Auth::basic_from_file("am", &file("pw", "secret\n\n")).expect("password");
        assert!(auth.admits(&with("Basic YW06c2VjcmV0")));
        for text in ["", "\n", " \t\r\n "] {
            let err = Auth::bearer_from_file(&file("empty", text))
                .unwrap_err()
                .to_string();
            assert!(err.contains("empty"), "{err}");
            let err = Auth::basic_from_file("am", &file("empty", text))
                .unwrap_err()
                .to_string();
            assert!(err.contains("empty"), "{err}");
        }
        let err = Auth::bearer_from_file(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
    }
}
