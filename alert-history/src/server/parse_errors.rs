//! JSON for the errors HTTP/1 parsing answers itself.
//!
//! A request hyper cannot parse never reaches the router: hyper writes a bodiless
//! `400 Bad Request`, `414 URI Too Long` (a request target over 64 KiB) or `431 Request
//! Header Fields Too Large` and closes the connection. [`JsonParseErrors`] sits between
//! hyper and the socket and replaces exactly those responses (their status line, then
//! `content-length: 0` and nothing after the head) with the same status and the JSON
//! error every other answer of the server has. The router's own 400, 414 and 431 carry
//! JSON bodies, so they never match.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The JSON response that replaces `head` when it is one of hyper's bodiless
/// parse-error answers.
///
/// ```
/// use alert_history::server::parse_errors::json_replacement;
/// let canned = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Thu, 01 May 2024 10:00:00 GMT\r\n\r\n";
/// let json = String::from_utf8(json_replacement(canned).unwrap()).unwrap();
/// assert!(json.starts_with("HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\n"));
/// assert!(json.contains("\"status\":\"error\""), "{json}");
/// let ours = b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: 80\r\n\r\n";
/// assert!(json_replacement(ours).is_none());
/// ```
pub fn json_replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (status_line, message) = if head.starts_with(b"HTTP/1.1 414 ") {
        (
            "HTTP/1.1 414 URI Too Long",
            format!(
                "the request target is longer than HTTP/1 parsing takes (64 KiB); URLs over {} bytes are refused: use fewer or shorter match[] parameters",
                super::MAX_URL_BYTES
            ),
        )
    } else if head.starts_with(b"HTTP/1.1 431 ") {
        (
            "HTTP/1.1 431 Request Header Fields Too Large",
            "the request's headers are larger than the server reads".to_owned(),
        )
    } else if head.starts_with(b"HTTP/1.1 400 ") {
        (
            "HTTP/1.1 400 Bad Request",
            "the request is not valid HTTP/1.1".to_owned(),
        )
    } else {
        return None;
    };
    let bodiless = head.ends_with(b"\r\n\r\n")
        && head
            .windows(b"\r\ncontent-length: 0\r\n".len())
            .any(|w| w == b"\r\ncontent-length: 0\r\n")
        && !head
            .windows(b"\r\ncontent-type:".len())
            .any(|w| w.eq_ignore_ascii_case(b"\r\ncontent-type:"));
    if !bodiless {
        return None;
    }
    let body = serde_json::json!({"status": "error", "errorType": "bad_data", "error": message})
        .to_string();
    Some(
        format!(
            "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

/// A connection whose bodiless parse-error answers are rewritten as JSON (see the
/// [module docs](self)); everything else passes through.
pub struct JsonParseErrors<S> {
    inner: S,
    /// A replacement accepted from hyper but not yet written, and how much of it is.
    pending: Option<(Vec<u8>, usize)>,
}

impl<S> JsonParseErrors<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> JsonParseErrors<S> {
        JsonParseErrors {
            inner,
            pending: None,
        }
    }
}

impl<S: AsyncWrite + Unpin> JsonParseErrors<S> {
    /// Writes what is left of a replacement.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written >= bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if let Some(replacement) = json_replacement(buf) {
            self.pending = Some((replacement, 0));
            // Written from hyper's point of view; the rest goes out on flush.
            let _ = self.poll_pending(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut non_empty = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (non_empty.next(), non_empty.next()) {
            return self.poll_write(cx, only);
        }
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_parse_errors_are_replaced() {
        for canned in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n"[..],
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n",
        ] {
            let got = json_replacement(canned).expect("replaced");
            let text = String::from_utf8(got).expect("utf8");
            let (head, body) = text.split_once("\r\n\r\n").expect("head");
            assert!(head.contains(&format!("content-length: {}", body.len())));
            let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
            assert_eq!(v["status"], "error");
        }
        for other in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n",
            b"{\"status\":\"error\"}",
        ] {
            assert!(json_replacement(other).is_none());
        }
    }
}
