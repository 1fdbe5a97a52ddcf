//! Optional credentials on the webhook and the API: a bearer token or basic auth, as
//! Alertmanager's `webhook_configs.http_config` can send them.

use axum::http::{HeaderMap, header};

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
    /// The `Authorization` header value that is accepted.
    fn expected(&self) -> String {
        match self {
            Auth::Bearer(token) => format!("Bearer {token}"),
            Auth::Basic { user, password } => {
                format!("Basic {}", base64(format!("{user}:{password}").as_bytes()))
            }
        }
    }

    /// Whether `headers` carry the credentials (compared in constant time).
    ///
    /// ```
    /// use alert_history::server::Auth;
    /// use axum::http::{HeaderMap, HeaderValue};
    /// let auth = Auth::Basic { user: "am".into(), password: "secret".into() };
    /// let mut h = HeaderMap::new();
    /// assert!(!auth.admits(&h));
    /// h.insert("authorization", HeaderValue::from_static("Basic YW06c2VjcmV0"));
    /// assert!(auth.admits(&h));
    /// ```
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(given) = headers.get(header::AUTHORIZATION) else {
            return false;
        };
        let expected = self.expected();
        let given = given.as_bytes();
        let expected = expected.as_bytes();
        if given.len() != expected.len() {
            return false;
        }
        given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn bearer_tokens_must_match_exactly() {
        let auth = Auth::Bearer("t0ken".into());
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(v));
            h
        };
        assert!(auth.admits(&with("Bearer t0ken")));
        assert!(!auth.admits(&with("Bearer t0ke")));
        assert!(!auth.admits(&with("Bearer t0kem")));
        assert!(!auth.admits(&with("Basic t0ken")));
        assert!(!format!("{auth:?}").contains("t0ken"));
    }
}
