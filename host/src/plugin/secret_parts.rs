//! The host side of the `secrets` import (questions about a secret's value
//! answered without handing the value to the component) and of `console`.

use super::sandbox::{HostIo, cap_text};
use super::wit_v0_1::{console, secrets};
use std::io::Write as _;

/// What one `print` may write.
const MAX_CONSOLE_BYTES: usize = 64 << 10;

/// What one send may write on the console in all its prints: a notification
/// and then some. One send once wrote 2.5 GB in 64 KiB prints.
const MAX_CONSOLE_BYTES_PER_SEND: usize = 256 << 10;
const MAX_CONSOLE_LINES_PER_SEND: usize = 1000;

/// What one send has printed on the console so far.
#[derive(Debug, Default)]
pub(crate) struct ConsoleSpent {
    bytes: usize,
    lines: usize,
    /// The limit was reached and said so.
    full: bool,
}

impl ConsoleSpent {
    /// `text` as far as this send may still print it, counted; and whether
    /// the limit was reached (the first time only).
    fn admit(&mut self, mut text: String) -> (Option<String>, bool) {
        if self.full {
            return (None, false);
        }
        let left_bytes = MAX_CONSOLE_BYTES_PER_SEND.saturating_sub(self.bytes);
        let left_lines = MAX_CONSOLE_LINES_PER_SEND.saturating_sub(self.lines);
        if let Some((cut, _)) = text.match_indices('\n').nth(left_lines.saturating_sub(1)) {
            text.truncate(cut);
            self.full = true;
        }
        // One byte for the newline `print` adds.
        if text.len() + 1 > left_bytes {
            cap_text(&mut text, left_bytes.saturating_sub(4));
            self.full = true;
        }
        self.bytes += text.len() + 1;
        self.lines += text.lines().count().max(1);
        if self.bytes >= MAX_CONSOLE_BYTES_PER_SEND || self.lines >= MAX_CONSOLE_LINES_PER_SEND {
            self.full = true;
        }
        (Some(text), self.full)
    }
}

impl console::Host for HostIo {
    async fn print(&mut self, text: String) {
        if self.console.full {
            return;
        }
        let mut text = self.secrets.describe(&text);
        cap_text(&mut text, MAX_CONSOLE_BYTES);
        let (shown, reached) = self.console.admit(text);
        let mut out = shown.map(|t| format!("{t}\n")).unwrap_or_default();
        if reached {
            out.push_str(&format!(
                "[mcp-push: console limit reached for channel {} ({} KiB or {} lines a send); \
                 dropping further output]\n",
                self.channel,
                MAX_CONSOLE_BYTES_PER_SEND >> 10,
                MAX_CONSOLE_LINES_PER_SEND
            ));
        }
        // One write, so that concurrent channels do not interleave mid-line.
        let _ = std::io::stderr().write_all(out.as_bytes());
    }
}

/// The legacy `secrets` import, for components built before shapes. It
/// answers only what the plugin's shapes declare: a `starts-with` prefix that
/// one of the setting's forms starts with, a `split` at its declared
/// separator (every part a placeholder, `reveal` ignored). Anything else is
/// answered as if the value were opaque, so the answer never depends on an
/// undeclared property of a secret: `starts-with` and `split` with a chosen
/// separator were a prefix and a character-count oracle.
impl secrets::Host for HostIo {
    async fn starts_with(&mut self, text: String, prefix: String) -> bool {
        match self.secrets.whole(&text).map(str::to_string) {
            None if !mcp_push_policy::Secrets::looks_secret(text.as_bytes()) => {
                text.starts_with(&prefix)
            }
            Some(key) if self.shapes.declares_prefix(&key, &prefix) => {
                self.secrets.fill(&text).starts_with(&prefix)
            }
            _ => {
                self.legacy_refused("starts-with");
                false
            }
        }
    }

    async fn split(&mut self, text: String, separator: String, _reveal: Vec<u32>) -> Vec<String> {
        if separator.is_empty() {
            return vec![text];
        }
        match self.secrets.whole(&text).map(str::to_string) {
            None if !mcp_push_policy::Secrets::looks_secret(text.as_bytes()) => {
                text.split(separator.as_str()).map(String::from).collect()
            }
            Some(key) if self.shapes.declares_separator(&key, &separator) => {
                let value = self.secrets.fill(&text);
                value
                    .splitn(mcp_push_policy::shape::MAX_ITEMS, separator.as_str())
                    .enumerate()
                    .map(|(i, part)| self.secrets.add(&format!("{key}[{i}]"), part))
                    .collect()
            }
            _ => {
                self.legacy_refused("split");
                vec![text]
            }
        }
    }
}

impl HostIo {
    fn legacy_refused(&self, what: &str) {
        tracing::warn!(
            channel = %self.channel,
            "secrets.{what} on a secret the plugin declared no shape for: answered as opaque \
             (rebuild the plugin with a shape: see the SDK's `Channel::shapes`)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runtime::Limits;
    use crate::plugin::secrets::Secrets;
    use mcp_push_policy::{Form, Shape, Shapes};
    use std::sync::Arc;
    use std::time::Instant;

    fn io(secrets: Secrets, shapes: Shapes) -> HostIo {
        let _ = rustls::crypto::ring::default_provider().install_default();
        HostIo {
            channel: "test".into(),
            allow: Default::default(),
            secrets,
            client: reqwest::Client::new(),
            limits: Limits::default(),
            deadline: Instant::now(),
            fetches: 0,
            log_lines: 0,
            shapes: Arc::new(shapes),
            console: Default::default(),
            delivery: Default::default(),
        }
    }

    #[test]
    fn console_output_is_capped_per_send_in_bytes_and_lines_once() {
        let mut spent = ConsoleSpent::default();
        let big = "y".repeat(60 << 10);
        let outs: Vec<_> = (0..10).map(|_| spent.admit(big.clone())).collect();
        let shown: usize = outs
            .iter()
            .filter_map(|(t, _)| t.as_ref())
            .map(|t| t.len() + 1)
            .sum();
        assert!(shown <= MAX_CONSOLE_BYTES_PER_SEND, "{shown}");
        assert!(shown > MAX_CONSOLE_BYTES_PER_SEND - (4 << 10), "{shown}");
        assert_eq!(outs.iter().filter(|(_, r)| *r).count(), 1, "one note");

        let mut spent = ConsoleSpent::default();
        let (text, reached) = spent.admit("line\n".repeat(5000));
        assert_eq!(text.unwrap().lines().count(), MAX_CONSOLE_LINES_PER_SEND);
        assert!(reached);
        assert_eq!(spent.admit("more".into()), (None, false));

        let mut spent = ConsoleSpent::default();
        assert_eq!(spent.admit("a\nb".into()), (Some("a\nb".into()), false));
        assert_eq!((spent.bytes, spent.lines), (4, 2));
    }

    #[test]
    fn legacy_questions_answer_only_what_shapes_declare() {
        let mut secrets = Secrets::new();
        let am = secrets.add("am", "wwcorp,s3cr3t-part,@all,1000002");
        let push = secrets.add("push", "https://bark.example/KEY");
        let shapes = Shapes::new(
            vec![
                Shape {
                    key: "am".into(),
                    separator: Some(",".into()),
                    forms: vec![],
                },
                Shape {
                    key: "push".into(),
                    separator: None,
                    forms: vec![Form {
                        name: "url".into(),
                        pattern: "(?P<origin>https?://[^/]+)/.*".into(),
                        public: vec!["origin".into()],
                    }],
                },
            ],
            |_| true,
        )
        .unwrap();
        let mut io = io(secrets, shapes);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut split = |text: &str, sep: &str, reveal: Vec<u32>| {
            rt.block_on(secrets::Host::split(
                &mut io,
                text.into(),
                sep.into(),
                reveal,
            ))
        };
        // The declared separator: every part a placeholder, `reveal` ignored.
        let parts = split(&am, ",", vec![0, 1, 2, 3]);
        assert_eq!(parts.len(), 4);
        assert!(
            parts.iter().all(|p| p.starts_with("MCPPUSHSECRET_")),
            "{parts:?}"
        );
        // Any other separator: the value is opaque (one part, unchanged).
        assert_eq!(split(&am, "c", vec![0]), vec![am.clone()]);
        assert_eq!(split(&push, ",", vec![0]), vec![push.clone()]);
        // Plain text is split as it is.
        assert_eq!(split("a,b", ",", vec![]), vec!["a", "b"]);
        let mut starts = |text: &str, prefix: &str| {
            rt.block_on(secrets::Host::starts_with(
                &mut io,
                text.into(),
                prefix.into(),
            ))
        };
        assert!(starts(&push, "http"));
        assert!(
            !starts(&push, "https://b"),
            "an undeclared prefix is a prefix oracle"
        );
        assert!(!starts(&am, "wwcorp"), "no form declared");
        assert!(starts("plain", "pl"));
    }
}
