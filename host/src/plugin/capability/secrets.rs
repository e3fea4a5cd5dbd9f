//! The legacy `secrets` capability: questions about a secret's value
//! answered without handing the value to the component, for components
//! built before shapes.

use super::context::CallContext;
use std::sync::Arc;

/// The `secrets` capability's part of a call: the plugin's shapes, which say
/// what it may be answered.
#[derive(Default)]
pub(crate) struct SecretsState {
    pub shapes: Arc<mcp_push_policy::Shapes>,
}

/// The legacy `secrets` import, for components built before shapes. It
/// answers only what the plugin's shapes declare: a `starts-with` prefix that
/// one of the setting's forms starts with, a `split` at its declared
/// separator (every part a placeholder, `reveal` ignored). Anything else is
/// answered as if the value were opaque, so the answer never depends on an
/// undeclared property of a secret: `starts-with` and `split` with a chosen
/// separator were a prefix and a character-count oracle.
impl SecretsState {
    pub(crate) fn starts_with(&self, call: &CallContext, text: String, prefix: String) -> bool {
        match call.secrets.whole(&text).map(str::to_string) {
            None if !mcp_push_policy::Secrets::looks_secret(text.as_bytes()) => {
                text.starts_with(&prefix)
            }
            Some(key) if self.shapes.declares_prefix(&key, &prefix) => {
                call.secrets.fill(&text).starts_with(&prefix)
            }
            _ => {
                legacy_refused(call, "starts-with");
                false
            }
        }
    }

    pub(crate) fn split(
        &self,
        call: &mut CallContext,
        text: String,
        separator: String,
        _reveal: Vec<u32>,
    ) -> Vec<String> {
        if separator.is_empty() {
            return vec![text];
        }
        match call.secrets.whole(&text).map(str::to_string) {
            None if !mcp_push_policy::Secrets::looks_secret(text.as_bytes()) => {
                text.split(separator.as_str()).map(String::from).collect()
            }
            Some(key) if self.shapes.declares_separator(&key, &separator) => {
                let value = call.secrets.fill(&text);
                value
                    .splitn(mcp_push_policy::shape::MAX_ITEMS, separator.as_str())
                    .enumerate()
                    .map(|(i, part)| call.secrets.add(&format!("{key}[{i}]"), part))
                    .collect()
            }
            _ => {
                legacy_refused(call, "split");
                vec![text]
            }
        }
    }
}

fn legacy_refused(call: &CallContext, what: &str) {
    tracing::warn!(
    channel = %call.channel,
        "secrets.{what} on a secret the plugin declared no shape for: answered as opaque \
         (rebuild the plugin with a shape: see the SDK's `Channel::shapes`)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::secrets::Secrets;
    use crate::plugin::types::Limits;
    use mcp_push_policy::{Form, Shape, Shapes};
    use std::time::Instant;

    fn call(secrets: Secrets) -> CallContext {
        CallContext {
            channel: "test".into(),
            allow: Default::default(),
            secrets,
            limits: Limits::default(),
            deadline: Instant::now(),
            requests: 0,
            reserved: None,
        }
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
        let state = SecretsState {
            shapes: Arc::new(shapes),
        };
        let mut call = call(secrets);
        let mut split = |text: &str, sep: &str, reveal: Vec<u32>| {
            state.split(&mut call, text.into(), sep.into(), reveal)
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
        let starts =
            |text: &str, prefix: &str| state.starts_with(&call, text.into(), prefix.into());
        assert!(starts(&push, "http"));
        assert!(
            !starts(&push, "https://b"),
            "an undeclared prefix is a prefix oracle"
        );
        assert!(!starts(&am, "wwcorp"), "no form declared");
        assert!(starts("plain", "pl"));
    }
}
