//! What senders hand in (the MCP tools' arguments, and later the REST bodies),
//! checked field by field and turned into a [`Notification`].

use super::{EventKind, Format, Notification, Priority, RunEvent, RunId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Objects and arrays nest at most this deep in a tool's arguments or a REST
/// body: deeper data is refused with a clear error before anything recurses
/// over it (serde_json gives up at 128 levels, a hostile client sends 100,000).
pub const MAX_DEPTH: usize = 64;

/// How deeply objects and arrays nest in JSON text, counted without parsing
/// (so without recursion). Brackets inside strings do not count.
pub fn nesting(text: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The depth of a parsed value, walked with an explicit stack.
fn value_nesting(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    let mut max = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(a) => Box::new(a.iter()),
            Value::Object(o) => Box::new(o.values()),
            _ => continue,
        };
        max = max.max(depth + 1);
        stack.extend(children.map(|c| (c, depth + 1)));
    }
    max
}

/// `MAX_DEPTH` as an input error.
pub fn check_nesting(depth: usize) -> Result<(), InputError> {
    if depth > MAX_DEPTH {
        return Err(InputError::new(
            "",
            format!(
                "objects and arrays are nested {depth} levels deep; at most {MAX_DEPTH} are \
                 accepted: flatten `data.metadata`"
            ),
        ));
    }
    Ok(())
}

/// A bad argument: which field, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Dotted path of the field (`data.progress`), or empty for the whole input.
    pub field: String,
    pub message: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Parse JSON arguments into `T`, naming the field that did not fit.
    pub fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, Self> {
        check_nesting(value_nesting(&value))?;
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            // serde names a missing field in its message only; the path is
            // then the enclosing object ("." at the top). The field is named
            // apart, as for every other error.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| Some(rest[..rest.find('`')?].to_string()));
            let field = match (missing.as_deref(), path.as_str()) {
                (Some(name), ".") => name.to_string(),
                (Some(name), parent) => format!("{parent}.{name}"),
                (None, ".") => String::new(),
                (None, _) => path,
            };
            let message = match missing {
                Some(_) => "is required".to_string(),
                None => message,
            };
            InputError { field, message }
        })
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid arguments: {}", self.message)
        } else {
            write!(f, "invalid `{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for InputError {}

/// Arguments of `notify_send`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// Short headline, e.g. "Deploy finished". At most 256 characters; may be
    /// empty when `content` is not.
    pub title: String,
    /// The message itself. Keep it short; never include secrets.
    pub content: String,
    /// How `content` is written (default `text`).
    #[serde(default)]
    pub format: Option<Format>,
    /// `low`, `normal` (default), `high` or `urgent`.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Labels some channels show or route on, e.g. ["ci", "prod"].
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// A link to attach (channels that can make the message clickable do).
    #[serde(default)]
    pub link: Option<String>,
    /// Deliver only to these configured channels (default: all of them).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Any string unique to this notification (up to 200 characters): a
    /// repeat with the same key returns the first result and sends nothing again.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Arguments of `notify_event`: one step of a long run, all steps of a run
/// sharing its `run_id`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// Names the run, the same for all of its events, e.g. "train-2026-11-21".
    pub run_id: String,
    /// `start` when work begins, `update` for progress, `end` when it
    /// succeeded, `error` when it failed.
    pub event: EventKind,
    /// What happened, in a sentence; default: the kind in words ("started",
    /// "finished", ...).
    #[serde(default)]
    pub message: String,
    /// Progress, step, artifact link, error code and anything else.
    #[serde(default, deserialize_with = "object_only")]
    pub data: Option<EventData>,
    /// When it happened (RFC 3339, e.g. "2026-11-21T09:30:00Z"); default: now.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// Deliver only to these configured channels (default: all of them).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Any string unique to this notification (up to 200 characters): a
    /// repeat with the same key returns the first result and sends nothing again.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
pub struct EventData {
    /// Fraction done, from 0 to 1.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub progress: Option<f64>,
    /// The current step, e.g. "epoch 3/10".
    #[serde(default)]
    pub step: Option<String>,
    /// Where the result can be seen (a URL).
    #[serde(default)]
    pub artifact_url: Option<String>,
    /// A machine-readable failure code, for `error` events.
    #[serde(default)]
    pub error_code: Option<ErrorCode>,
    /// Anything else, kept with the event.
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A struct from a JSON object only: serde's derive also takes a struct from
/// an array of its fields in order, which the schema does not allow.
fn object_only<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Object<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    deserializer.deserialize_any(Object(std::marker::PhantomData))
}

/// Codes come as text ("E_OOM") or numbers (137).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ErrorCode {
    Text(String),
    Number(i64),
}

/// A whole number may come written as `137.0` (JSON does not tell the two
/// apart, and JSON Schema's `integer` allows it).
impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde_json::Value;
        let whole = |f: f64| f.fract() == 0.0 && f > i64::MIN as f64 && f < i64::MAX as f64;
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ErrorCode::Text(s)),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(ErrorCode::Number(i)),
                (None, Some(f)) if whole(f) => Ok(ErrorCode::Number(f as i64)),
                _ => Err(serde::de::Error::custom(format!(
                    "{n} is not a whole number from {} to {}",
                    i64::MIN,
                    i64::MAX
                ))),
            },
            other => Err(serde::de::Error::custom(format!(
                "expected text or a whole number, got {other}"
            ))),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Text(s) => f.write_str(s),
            ErrorCode::Number(n) => write!(f, "{n}"),
        }
    }
}

pub const MAX_TITLE: usize = 256;
pub const MAX_CONTENT: usize = 64 * 1024;
pub const MAX_RUN_ID: usize = 128;
pub const MAX_IDEMPOTENCY_KEY: usize = 200;

impl SendInput {
    pub fn into_notification(self) -> Result<(Notification, Vec<String>), InputError> {
        if self.title.trim().is_empty() && self.content.trim().is_empty() {
            return Err(InputError::new(
                "title",
                "the title and the content are both empty: give at least one",
            ));
        }
        check_len("title", &self.title, MAX_TITLE)?;
        check_len("content", &self.content, MAX_CONTENT)?;
        if let Some(link) = &self.link {
            check_url("link", link)?;
        }
        let msg = Notification {
            title: self.title,
            body: self.content,
            format: self.format.unwrap_or_default(),
            priority: self.priority.unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
            link: self.link,
            event: None,
            question: None,
        };
        Ok((msg, check_channels(self.channels)?))
    }
}

impl EventInput {
    /// Check every field and write the readable message channels get.
    pub fn into_notification(self) -> Result<(Notification, Vec<String>), InputError> {
        let run_id = self.run_id.trim();
        if run_id.is_empty() {
            return Err(InputError::new(
                "run_id",
                "empty: name the run, the same for all of its events",
            ));
        }
        check_len("run_id", run_id, MAX_RUN_ID)?;
        if run_id.chars().any(char::is_control) {
            return Err(InputError::new(
                "run_id",
                "must not hold control characters",
            ));
        }
        let data = self.data.unwrap_or_default();
        if let Some(p) = data.progress
            && !(p.is_finite() && (0.0..=1.0).contains(&p))
        {
            return Err(InputError::new(
                "data.progress",
                format!("{p} is outside 0 to 1 (0.5 means half done)"),
            ));
        }
        check_len("message", &self.message, MAX_CONTENT)?;
        if let Some(url) = &data.artifact_url {
            check_url("data.artifact_url", url)?;
        }
        let timestamp = match &self.timestamp {
            None => None,
            Some(t) => Some(chrono::DateTime::parse_from_rfc3339(t).map_err(|e| {
                InputError::new(
                    "timestamp",
                    format!("{t:?} is not an RFC 3339 time ({e}); write e.g. 2026-11-21T09:30:00Z"),
                )
            })?),
        };

        let kind = self.event;
        let title = format!("[{}] {run_id}", kind.as_str().to_uppercase());
        let mut lines = Vec::new();
        if !self.message.trim().is_empty() {
            lines.push(self.message.trim_end().to_string());
        } else if data.progress.is_none() && data.step.is_none() {
            // The kind alone is news; the message says it in words.
            lines.push(format!("{run_id} {}", kind.in_words()));
        }
        if let Some(p) = data.progress {
            lines.push(format!("Progress: {}%", (p * 100.0).round() as u32));
        }
        if let Some(step) = data.step.as_deref().filter(|s| !s.trim().is_empty()) {
            lines.push(format!("Step: {step}"));
        }
        if let Some(code) = &data.error_code {
            lines.push(format!("Error code: {code}"));
        }
        if let Some(url) = &data.artifact_url {
            lines.push(format!("Artifact: {url}"));
        }
        if let Some(t) = &timestamp {
            lines.push(format!("At: {}", t.to_rfc3339()));
        }
        let priority = match kind {
            EventKind::Update => Priority::Low,
            EventKind::Start | EventKind::End => Priority::Normal,
            EventKind::Error => Priority::High,
        };
        let attached = serde_json::to_value(&data).ok().filter(|v| {
            v.as_object()
                .is_some_and(|o| o.values().any(|v| !v.is_null()))
        });
        let msg = Notification {
            title,
            body: lines.join("\n"),
            format: Format::Text,
            priority,
            tags: vec![kind.as_str().to_string()],
            link: data.artifact_url.clone(),
            event: Some(RunEvent {
                run_id: RunId(run_id.to_string()),
                kind,
                progress: data.progress.map(|p| p as f32),
                step: data.step.clone(),
                artifact_url: data.artifact_url.clone(),
                data: attached,
                timestamp,
            }),
            question: None,
        };
        Ok((msg, check_channels(self.channels)?))
    }
}

/// A key is opaque to us, but it must be something a person can read back.
pub fn check_idempotency_key(key: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(key) = key else { return Ok(None) };
    if key.trim().is_empty()
        || key.chars().count() > MAX_IDEMPOTENCY_KEY
        || key.chars().any(char::is_control)
    {
        return Err(InputError::new(
            "idempotency_key",
            "use 1 to 200 printable characters (for example the job id and step)",
        ));
    }
    Ok(Some(key.to_string()))
}

/// Each channel named once: a list that names one twice is a mistake to
/// point out, not a reason to send twice.
fn check_channels(channels: Option<Vec<String>>) -> Result<Vec<String>, InputError> {
    let channels = channels.unwrap_or_default();
    for (i, name) in channels.iter().enumerate() {
        if channels[..i].contains(name) {
            return Err(InputError::new(
                "channels",
                format!("`{name}` is listed twice: name each channel once"),
            ));
        }
    }
    Ok(channels)
}

fn check_len(field: &str, value: &str, max: usize) -> Result<(), InputError> {
    let n = value.chars().count();
    if n > max {
        return Err(InputError::new(
            field,
            format!("{n} characters is too long (at most {max})"),
        ));
    }
    Ok(())
}

fn check_url(field: &str, value: &str) -> Result<(), InputError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        Ok(u) => Err(InputError::new(
            field,
            format!("{}: only http and https links are allowed", u.scheme()),
        )),
        Err(e) => Err(InputError::new(
            field,
            format!("{value:?} is not a URL ({e})"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: serde_json::Value) -> Result<Notification, InputError> {
        InputError::parse::<EventInput>(v)?
            .into_notification()
            .map(|(m, _)| m)
    }

    /// MCP and REST take the same input: the kind alone is news.
    #[test]
    fn an_event_without_a_message_says_its_kind() {
        let m = event(json!({"run_id": "job", "event": "start"})).unwrap();
        assert_eq!(m.body, "job started");
        let m = event(json!({"run_id": "job", "event": "error", "message": " "})).unwrap();
        assert_eq!(m.body, "job failed");
        // Progress says enough on its own.
        let m =
            event(json!({"run_id": "job", "event": "update", "data": {"progress": 0.5}})).unwrap();
        assert_eq!(m.body, "Progress: 50%");
    }

    #[test]
    fn an_event_reads_well() {
        let m = event(json!({
            "run_id": "train-7", "event": "error", "message": "out of memory",
            "data": {"progress": 0.42, "step": "epoch 3", "error_code": 137,
                     "artifact_url": "https://ci.example/7", "metadata": {"gpu": 1}},
            "timestamp": "2026-11-21T09:30:00Z"
        }))
        .unwrap();
        assert_eq!(m.title, "[ERROR] train-7");
        assert_eq!(
            m.body,
            "out of memory\nProgress: 42%\nStep: epoch 3\nError code: 137\n\
             Artifact: https://ci.example/7\nAt: 2026-11-21T09:30:00+00:00"
        );
        assert_eq!(m.priority, Priority::High);
        assert_eq!(m.link.as_deref(), Some("https://ci.example/7"));
        let ev = m.event.unwrap();
        assert_eq!(ev.kind, EventKind::Error);
        assert_eq!(ev.data.unwrap()["metadata"]["gpu"], 1);
    }

    #[test]
    fn errors_name_the_field() {
        let e = event(json!({"run_id": "r", "event": "finish", "message": "x"})).unwrap_err();
        assert_eq!(e.field, "event");
        assert!(e.message.contains("unknown variant `finish`"), "{e}");
        let e = event(json!({"run_id": "r", "event": "update", "message": "x",
                             "data": {"progress": 1.5}}))
        .unwrap_err();
        assert_eq!(e.field, "data.progress");
        let e = event(json!({"run_id": "r", "event": "update", "message": 5})).unwrap_err();
        assert_eq!(e.field, "message");
        let e = event(json!({"event": "update", "message": "x"})).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("run_id", "is required")
        );
        assert_eq!(e.to_string(), "invalid `run_id`: is required");
        let e =
            event(json!({"run_id": "r", "event": "end", "message": "x", "colour": 1})).unwrap_err();
        assert_eq!(e.field, "colour", "{e}");
        let e = event(json!({"run_id": "r", "event": "end", "message": "x",
                             "timestamp": "yesterday"}))
        .unwrap_err();
        assert_eq!(e.field, "timestamp");
        let e = InputError::parse::<SendInput>(json!({"title": "", "content": " "}))
            .unwrap()
            .into_notification()
            .unwrap_err();
        assert!(e.message.contains("both empty"), "{e}");
    }

    #[test]
    fn data_is_an_object_and_shallow() {
        let e = event(json!({"run_id": "r", "event": "update", "message": "x",
                             "data": [0.5, "step"]}))
        .unwrap_err();
        assert_eq!(e.field, "data");
        assert!(e.message.contains("expected an object"), "{e}");
        let mut deep = json!(1);
        for _ in 0..70 {
            deep = json!([deep]);
        }
        let e = event(json!({"run_id": "r", "event": "update", "message": "x",
                             "data": {"metadata": {"x": deep}}}))
        .unwrap_err();
        assert!(e.message.contains("at most 64"), "{e}");
        assert_eq!(nesting(br#"{"a": "[[[{{", "b": [[1]]}"#), 3);
        assert_eq!(nesting(br#"{"a": "\"[[", "b": {}}"#), 2);
    }
}
