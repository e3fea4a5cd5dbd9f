//! The stdio transport's front door: reads the client's lines, answers the
//! ones that are not a well-formed MCP message with a JSON-RPC error, and
//! passes the rest to rmcp. rmcp's own line codec drops such lines without a
//! word (a malformed line, non-UTF-8 bytes, `tools/call` without `params` or
//! with `arguments` as a string, 100,000 nested arrays), leaving the client
//! waiting forever; here each gets `-32700`, `-32600` or `-32602` naming the
//! problem, and the session goes on.
//!
//! [`check`] is the rule (a pure function of one line); [`StdioFront`] is the
//! I/O around it.

use crate::notification::{MAX_DEPTH, nesting};
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Longer lines are answered with an error and skipped: a client cannot make
/// the server buffer without bound while it waits for a newline.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// JSON-RPC 2.0 error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const INVALID_PARAMS: i64 = -32602;

/// What to do with one line from the client.
#[derive(Debug)]
pub enum Verdict {
    /// A well-formed message: rmcp handles it.
    Pass(Box<ClientJsonRpcMessage>),
    /// Not acceptable: write this JSON-RPC error reply.
    Answer(Value),
    /// Nothing to say: a blank line, or a bad notification or response
    /// (JSON-RPC never answers those); the reason goes to the log.
    Ignore(Option<String>),
}

/// The members every JSON-RPC message is judged by before its `params`. The
/// other members are skipped by serde_json without recursion, so a line
/// nested 100,000 levels deep is measured instead of overflowing anything.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    jsonrpc: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    method: Option<Value>,
}

fn error_reply(id: Value, code: i64, message: &str) -> Verdict {
    Verdict::Answer(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": crate::redact::redact(message)},
    }))
}

/// Judge one line (without its newline).
pub fn check(line: &[u8]) -> Verdict {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            return error_reply(
                Value::Null,
                PARSE_ERROR,
                &format!(
                    "parse error: the message is not UTF-8 (invalid byte at offset {}): send one \
                     JSON-RPC message per line, encoded as UTF-8",
                    e.valid_up_to()
                ),
            );
        }
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Verdict::Ignore(None);
    }
    if !trimmed.starts_with('{') {
        let message = if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
            (
                INVALID_REQUEST,
                "invalid request: a JSON-RPC message is a JSON object (batches are not accepted)"
                    .to_string(),
            )
        } else {
            (PARSE_ERROR, not_json(trimmed))
        };
        return error_reply(Value::Null, message.0, &message.1);
    }
    let envelope: Envelope = match serde_json::from_str(trimmed) {
        Ok(e) => e,
        Err(_) => return error_reply(Value::Null, PARSE_ERROR, &not_json(trimmed)),
    };
    // An id that is neither a string nor a number cannot be echoed back.
    let id = match envelope.id {
        None => None,
        Some(id @ (Value::String(_) | Value::Number(_))) => Some(id),
        Some(_) => {
            return error_reply(
                Value::Null,
                INVALID_REQUEST,
                "invalid request: `id` must be a string or a number",
            );
        }
    };
    let method = match envelope.method {
        None => None,
        Some(Value::String(m)) => Some(m),
        Some(_) => {
            return answer_or_log(
                id,
                INVALID_REQUEST,
                "invalid request: `method` must be a string".into(),
            );
        }
    };
    if envelope.jsonrpc != Some(json!("2.0")) {
        return answer_or_log(
            id,
            INVALID_REQUEST,
            "invalid request: `jsonrpc` must be \"2.0\"".into(),
        );
    }
    // The root object is one level and `params` another: tool arguments get
    // MAX_DEPTH levels of their own.
    let depth = nesting(trimmed.as_bytes());
    if depth > MAX_DEPTH + 2 {
        return answer_or_log(
            id,
            INVALID_PARAMS,
            format!(
                "invalid params: objects and arrays are nested {} levels deep; at most {MAX_DEPTH} \
                 levels are accepted in tool arguments: flatten the data",
                depth.saturating_sub(2)
            ),
        );
    }
    // Only now is the line known to be shallow enough to parse as a tree.
    let value: Value = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        Err(_) => return error_reply(Value::Null, PARSE_ERROR, &not_json(trimmed)),
    };
    if method.as_deref() == Some("tools/call")
        && let Err(why) = check_tool_call(value.get("params"))
    {
        return answer_or_log(id, INVALID_PARAMS, format!("invalid params: {why}"));
    }
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(m) => Verdict::Pass(Box::new(m)),
        Err(e) => {
            let what = match &method {
                Some(m) => format!("invalid params for `{m}`: {e}"),
                None => format!("invalid request: {e}"),
            };
            let code = if method.is_some() {
                INVALID_PARAMS
            } else {
                INVALID_REQUEST
            };
            answer_or_log(id, code, what)
        }
    }
}

fn not_json(text: &str) -> String {
    let why = match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(e) => e.to_string(),
        Ok(_) => "not a JSON-RPC message".into(),
    };
    format!("parse error: the line is not valid JSON ({why}): send one JSON-RPC message per line")
}

/// Requests get an answer; notifications and responses never do.
fn answer_or_log(id: Option<Value>, code: i64, message: String) -> Verdict {
    match id {
        Some(id) => error_reply(id, code, &message),
        None => Verdict::Ignore(Some(message)),
    }
}

/// `tools/call`'s params, checked here because rmcp would take a malformed
/// one for an unknown custom request and never answer it.
fn check_tool_call(params: Option<&Value>) -> Result<(), String> {
    let example = r#"{"name": "notify_send", "arguments": {"title": "...", "content": "..."}}"#;
    let Some(params) = params else {
        return Err(format!(
            "`params` is missing: tools/call takes e.g. {example}"
        ));
    };
    let Some(params) = params.as_object() else {
        return Err(format!(
            "`params` must be an object, e.g. {example} (got {})",
            kind(params)
        ));
    };
    match params.get("name") {
        Some(Value::String(_)) => {}
        None => return Err(format!("`params.name` is missing: e.g. {example}")),
        Some(other) => {
            return Err(format!(
                "`params.name` must be a string, the tool's name (got {})",
                kind(other)
            ));
        }
    }
    match params.get("arguments") {
        None | Some(Value::Null) | Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(format!(
            "`params.arguments` must be an object of the tool's arguments, e.g. {{\"title\": \
             \"...\"}} (got {})",
            kind(other)
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// MCP over stdin/stdout through [`check`]. Replies and rmcp's messages share
/// one writer task, so lines never interleave.
pub struct StdioFront {
    input: BufReader<tokio::io::Stdin>,
    out: mpsc::Sender<Vec<u8>>,
    /// The line read so far. rmcp drops an unfinished `receive` whenever it
    /// sends, so a partial line and an unwritten answer live here, not in
    /// the future.
    line: Vec<u8>,
    too_long: bool,
    pending: Option<Vec<u8>>,
}

/// Answers queued for stdout before the writer applies back-pressure.
const OUT_QUEUE: usize = 64;

impl StdioFront {
    /// The transport, and the writer task that must be awaited after the
    /// session ends so the last answers reach stdout.
    pub fn new() -> (StdioFront, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(OUT_QUEUE);
        let writer = tokio::spawn(async move {
            let mut stdout = tokio::io::stdout();
            while let Some(line) = rx.recv().await {
                if stdout.write_all(&line).await.is_err() || stdout.flush().await.is_err() {
                    break;
                }
            }
        });
        (
            StdioFront {
                input: BufReader::new(tokio::io::stdin()),
                out: tx,
                line: Vec::new(),
                too_long: false,
                pending: None,
            },
            writer,
        )
    }

    /// Read on to the end of the current line. `Ok(false)` at end of input.
    /// Cancel-safe: what was read stays in `self.line`.
    async fn fill_line(&mut self) -> std::io::Result<bool> {
        loop {
            let buf = self.input.fill_buf().await?;
            if buf.is_empty() {
                return Ok(!self.line.is_empty() || self.too_long);
            }
            let (chunk, used, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            if !self.too_long {
                if self.line.len() + chunk.len() > MAX_LINE {
                    self.too_long = true;
                    self.line = Vec::new();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            self.input.consume(used);
            if done {
                return Ok(true);
            }
        }
    }

    async fn next_message(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            if let Some(answer) = self.pending.take() {
                match self.out.reserve().await {
                    Ok(permit) => permit.send(answer),
                    Err(_) => return None,
                }
            }
            match self.fill_line().await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => {
                    tracing::warn!("cannot read the MCP client's input: {e}");
                    return None;
                }
            }
            let verdict = if std::mem::take(&mut self.too_long) {
                error_reply(
                    Value::Null,
                    INVALID_REQUEST,
                    &format!(
                        "invalid request: the line is longer than {} MiB",
                        MAX_LINE / (1024 * 1024)
                    ),
                )
            } else {
                check(&self.line)
            };
            self.line.clear();
            match verdict {
                Verdict::Pass(m) => return Some(*m),
                Verdict::Answer(reply) => {
                    tracing::debug!(reply = %reply, "refused a message from the MCP client");
                    let mut text = reply.to_string().into_bytes();
                    text.push(b'\n');
                    self.pending = Some(text);
                }
                Verdict::Ignore(Some(why)) => {
                    tracing::warn!("ignored a message from the MCP client: {why}")
                }
                Verdict::Ignore(None) => {}
            }
        }
    }
}

impl Transport<RoleServer> for StdioFront {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let out = self.out.clone();
        async move {
            let mut text = serde_json::to_vec(&item)?;
            text.push(b'\n');
            out.send(text)
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout closed"))
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.next_message()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(line: &[u8]) -> (Value, i64, String) {
        match check(line) {
            Verdict::Answer(v) => (
                v["id"].clone(),
                v["error"]["code"].as_i64().unwrap(),
                v["error"]["message"].as_str().unwrap().to_string(),
            ),
            other => panic!("{} got {other:?}", String::from_utf8_lossy(line)),
        }
    }

    fn deep(levels: usize) -> String {
        format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"notify_event","arguments":{{"run_id":"r","event":"update","message":"m","data":{{"metadata":{{"x":{}1{}}}}}}}}}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        )
    }

    #[test]
    fn each_bad_line_gets_its_error() {
        let cases: &[(&[u8], Value, i64, &str)] = &[
            (b"{not json", Value::Null, -32700, "not valid JSON"),
            (b"\xff\xfe{}", Value::Null, -32700, "not UTF-8"),
            (b"[1, 2]", Value::Null, -32600, "JSON object"),
            (
                br#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
                json!(1),
                -32602,
                "`params` is missing",
            ),
            (
                br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"notify_send","arguments":"{}"}}"#,
                json!("a"),
                -32602,
                "`params.arguments` must be an object",
            ),
            (
                br#"{"id":3,"method":"tools/list"}"#,
                json!(3),
                -32600,
                "`jsonrpc` must be",
            ),
            (
                br#"{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}"#,
                Value::Null,
                -32600,
                "`id` must be",
            ),
        ];
        for (line, id, code, says) in cases {
            let (got_id, got_code, message) = answer(line);
            assert_eq!((&got_id, got_code), (id, *code), "{message}");
            assert!(message.contains(says), "{message}");
        }
    }

    #[test]
    fn nesting_is_measured_not_parsed() {
        let (id, code, message) = answer(deep(240).as_bytes());
        assert_eq!((id, code), (json!(7), -32602));
        assert!(message.contains("at most 64"), "{message}");
        let huge = format!(
            r#"{{"jsonrpc":"2.0","id":8,"method":"ping","params":{{"x":{}{}}}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(answer(huge.as_bytes()).1, -32602);
        // Within the limit, the message goes through.
        assert!(matches!(check(deep(50).as_bytes()), Verdict::Pass(_)));
    }

    #[test]
    fn good_and_silent_lines() {
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Verdict::Pass(_)
        ));
        assert!(matches!(check(b"  \r"), Verdict::Ignore(None)));
        // A bad notification is never answered.
        assert!(matches!(
            check(br#"{"jsonrpc":"2.0","method":"tools/call"}"#),
            Verdict::Ignore(Some(_))
        ));
    }
}
