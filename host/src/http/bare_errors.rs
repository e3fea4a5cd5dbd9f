//! hyper answers a request it cannot parse by itself, before any handler
//! runs: `431` for a request line or headers past its buffer (about 400 KiB;
//! a 1 MB path or header) and `400` for bytes that are not HTTP/1.1, both
//! with an empty body. Every other error of `serve` has the documented body
//! `{"error": {"code", "message"}}`, so the socket's writer gives those two
//! the same shape as they leave.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// hyper's own error responses: status line, and what the body says.
const BARE: [(&[u8], &str, &str); 2] = [
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        "too_large",
        "the request line and headers are larger than 400 KiB: send a shorter path or query, \
         or fewer and shorter headers",
    ),
    (
        b"HTTP/1.1 400 Bad Request\r\n",
        "invalid",
        "the request is not valid HTTP/1.1",
    ),
];

/// The JSON response for one of hyper's bare ones, or `None` for anything else.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (status, code, message) = BARE.iter().find(|(s, _, _)| head.starts_with(s))?;
    let text = std::str::from_utf8(head).ok()?;
    // Only a response that is nothing but a head, with no body and the
    // connection closing: hyper's, never a handler's.
    if !(text.ends_with("\r\n\r\n")
        && text.contains("\r\ncontent-length: 0\r\n")
        && text.contains("\r\nconnection: close\r\n"))
    {
        return None;
    }
    let body = serde_json::json!({"error": {"code": code, "message": message}}).to_string();
    let mut out = status.to_vec();
    out.extend_from_slice(
        format!(
            "content-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    Some(out)
}

/// A connection whose writes pass through, but for hyper's bare errors.
pub struct Shaped<T> {
    inner: T,
    /// A replacement being written: its bytes, how many are out, and the
    /// length of the write it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> Shaped<T> {
    pub fn new(inner: T) -> Self {
        Shaped {
            inner,
            pending: None,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Shaped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Shaped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match replacement(buf) {
                Some(out) => this.pending = Some((out, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let (out, done, stands_for) = this.pending.as_mut().expect("set above");
        while *done < out.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &out[*done..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = *stands_for;
        this.pending = None;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes a response's head in one buffer, which
    // is what `replacement` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bare_errors_are_reshaped() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 19:13:36 GMT\r\n\r\n";
        let out = String::from_utf8(replacement(bare).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 431 ") && head.contains("content-type: application/json")
        );
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "too_large");
        // A handler's error has a body; a success is none of these.
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 20\r\n\r\n{\"error\":{}}").is_none());
        assert!(
            replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .is_none()
        );
    }
}
