//! Bindings for `mcp-push:channel@0.1.x` and the conversions between them and
//! the host's own types, both ways: the channel's exports (`message` in,
//! `channel-info` and `send-error` out) and the host's imports, whose `Host`
//! traits only convert and call the capability (`plugin::capability`). When
//! 0.2 comes, it gets a module of its own beside this one and becomes
//! `latest`, and these impls delegate to it; 0.1 components keep loading
//! through this one.

use crate::notification::{self as n, Notification};
use crate::plugin::capability::{self as cap, HostState};
use crate::plugin::error::DeliveryError;
use crate::plugin::info::{PluginInfo, SettingSpec, secret_by_name, validate};
use crate::plugin::sandbox::SendState;
use crate::plugin::types::{ChatQuestion, ChatReply, Polled};
use mcp_push_policy::Shapes;
use wasmtime::component::{HasSelf, Linker};

// The world with every export a 0.1 component may have. `shapes` and
// `replies` are optional (components built before them export `channel`
// only, and most channels cannot be answered in the chat), so the host
// looks the exports up one by one (`ChannelIndices`, `ShapesIndices`,
// `RepliesIndices`) instead of through the world's all-or-nothing
// `ReplyingPluginPre`.
wasmtime::component::bindgen!({
    path: "../wit",
    world: "replying-plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use self::exports::mcp_push::channel::channel::{
    Guest as Channel, GuestIndices as ChannelIndices,
};
pub use self::exports::mcp_push::channel::replies::{
    Guest as RepliesExport, GuestIndices as RepliesIndices,
};
pub use self::exports::mcp_push::channel::shapes::{
    Guest as ShapesExport, GuestIndices as ShapesIndices,
};
pub use self::mcp_push::channel::{
    cache, console, crypto, delivery, desktop, http, keys, log, mail, mqtt, secrets, signing, types,
};
pub use ReplyingPlugin as Plugin;

/// The WIT package version this module implements.
pub const WIT_VERSION: &str = "0.1.0";
/// The export a component of this version must have (any 0.1.x matches).
pub(crate) const EXPORT_PREFIX: &str = "mcp-push:channel/channel@";

pub(crate) fn supports(version: &str) -> bool {
    version.starts_with("0.1.")
}

/// Adds this version's imports to the linker, served by the store's
/// [`HostState`].
pub(crate) fn add_to_linker(linker: &mut Linker<SendState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<_, HasSelf<HostState>>(linker, |s: &mut SendState| &mut s.host)
}

pub(crate) fn message(msg: &Notification, previous: Option<String>) -> types::Message {
    types::Message {
        title: msg.title.clone(),
        body: msg.body.clone(),
        format: match msg.format {
            n::Format::Text => types::Format::Text,
            n::Format::Markdown => types::Format::Markdown,
            n::Format::Html => types::Format::Html,
        },
        priority: match msg.priority {
            n::Priority::Low => types::Priority::Low,
            n::Priority::Normal => types::Priority::Normal,
            n::Priority::High => types::Priority::High,
            n::Priority::Urgent => types::Priority::Urgent,
        },
        tags: msg.tags.clone(),
        link: msg.link.clone(),
        event: msg.event.as_ref().map(|e| types::RunEvent {
            run_id: e.run_id.0.clone(),
            kind: match e.kind {
                n::EventKind::Start => types::EventKind::Start,
                n::EventKind::Update => types::EventKind::Update,
                n::EventKind::End => types::EventKind::End,
                n::EventKind::Error => types::EventKind::Error,
            },
            progress: e.progress,
            step: e.step.clone(),
            artifact_url: e.artifact_url.clone(),
            data: e.data.as_ref().map(|d| d.to_string()),
        }),
        previous,
    }
}

/// A question for a replying channel's `ask`.
pub(crate) fn question(q: &ChatQuestion) -> exports::mcp_push::channel::replies::Question {
    exports::mcp_push::channel::replies::Question {
        ask_id: q.ask_id.clone(),
        title: q.title.clone(),
        text: q.text.clone(),
        choices: q.choices.clone(),
        link: q.link.clone(),
    }
}

/// What a replying channel's `poll-replies` found, in the host's terms
/// (its texts not yet masked).
pub(crate) fn polled(p: exports::mcp_push::channel::replies::Polled) -> Polled {
    Polled {
        replies: p
            .replies
            .into_iter()
            .map(|r| ChatReply {
                ask_id: r.ask_id,
                answer: r.answer,
                choice: r.choice,
                from: r.from,
            })
            .collect(),
        cursor: p.cursor,
        ignored: p.ignored,
    }
}

/// The plugin's self-description and its shapes, checked together (an
/// allowed host may name a public part of a shape). `can_reply`: the
/// component exports `replies`.
pub(crate) fn info(
    raw: types::ChannelInfo,
    shapes: Vec<exports::mcp_push::channel::shapes::Shape>,
    can_reply: bool,
) -> Result<(PluginInfo, Shapes), String> {
    let mut settings: Vec<SettingSpec> = raw
        .settings
        .into_iter()
        .map(|s| SettingSpec {
            key: s.key,
            env: s.env,
            help: s.help,
            required: s.required,
            secret: s.secret,
            default: s.default,
        })
        .collect();
    // Before anything reads which settings are secret.
    secret_by_name(&mut settings);
    let shapes: Vec<mcp_push_policy::Shape> = shapes
        .into_iter()
        .map(|s| mcp_push_policy::Shape {
            key: s.key,
            separator: s.separator,
            forms: s
                .forms
                .into_iter()
                .map(|f| mcp_push_policy::Form {
                    name: f.name,
                    pattern: f.pattern,
                    public: f.public,
                })
                .collect(),
        })
        .collect();
    let compiled = Shapes::new(shapes.clone(), |key| {
        settings.iter().any(|s| s.key == key && s.secret)
    })?;
    let allowed_hosts = validate(
        &raw.id,
        &settings,
        &raw.allowed_hosts,
        &raw.schemes,
        &compiled,
    )?;
    let (description, formats) = split_formats(&raw.description);
    let info = PluginInfo {
        id: raw.id,
        name: raw.name,
        version: raw.version,
        description: description.to_string(),
        formats,
        settings,
        allowed_hosts,
        schemes: raw.schemes,
        can_edit: raw.can_edit,
        can_reply,
        shapes,
    };
    Ok((info, compiled))
}

/// 0.1's `channel-info` has no formats field, so the SDK's
/// `ChannelInfo::formats` appends `[formats: a, b]` to the description; this
/// is the one place that reads it back.
fn split_formats(description: &str) -> (&str, Vec<String>) {
    match description.rsplit_once(" [formats: ") {
        Some((d, rest)) if rest.ends_with(']') => (
            d,
            rest[..rest.len() - 1]
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect(),
        ),
        _ => (description, Vec::new()),
    }
}

/// The channel's error as the host's (its message still to be described:
/// it may hold placeholders).
pub(crate) fn send_error(e: types::SendError) -> DeliveryError {
    match e {
        types::SendError::Config(m) => DeliveryError::Config(m),
        types::SendError::Rejected(m) => DeliveryError::Rejected(m),
        types::SendError::RateLimited(s) => DeliveryError::RateLimited(s),
        types::SendError::Unavailable(m) => DeliveryError::Unavailable(m),
    }
}

// The host's imports: each converts and calls its capability.

impl types::Host for HostState {}

impl http::Host for HostState {
    async fn fetch(&mut self, req: http::Request) -> Result<http::Response, http::Error> {
        let req = cap::http::Request {
            method: req.method,
            url: req.url,
            headers: req.headers,
            body: req.body,
            basic_auth: req.basic_auth.map(|a| cap::http::BasicAuth {
                user: a.user,
                password: a.password,
            }),
            header_lines: req.header_lines,
        };
        match self.http.fetch(&mut self.call, req).await {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
                truncated: r.truncated,
            }),
            Err(cap::http::Error::Denied(m)) => Err(http::Error::Denied(m)),
            Err(cap::http::Error::Timeout) => Err(http::Error::Timeout),
            Err(cap::http::Error::Transport(m)) => Err(http::Error::Transport(m)),
        }
    }
}

impl desktop::Host for HostState {
    async fn notify(&mut self, n: desktop::Notification) -> Result<u32, desktop::Error> {
        let n = cap::desktop::Notification {
            app_name: n.app_name,
            summary: n.summary,
            body: n.body,
            urgency: match n.urgency {
                desktop::Urgency::Low => cap::desktop::Urgency::Low,
                desktop::Urgency::Normal => cap::desktop::Urgency::Normal,
                desktop::Urgency::Critical => cap::desktop::Urgency::Critical,
            },
            expire_timeout_ms: n.expire_timeout_ms,
            replaces: n.replaces,
        };
        cap::desktop::notify(&mut self.call, n)
            .await
            .map_err(|e| match e {
                cap::desktop::Error::Denied(m) => desktop::Error::Denied(m),
                cap::desktop::Error::Unavailable(m) => desktop::Error::Unavailable(m),
                cap::desktop::Error::Timeout => desktop::Error::Timeout,
            })
    }
}

impl mqtt::Host for HostState {
    async fn publish(
        &mut self,
        msg: mqtt::PublishRequest,
    ) -> Result<mqtt::PublishReply, mqtt::Error> {
        let b = msg.broker;
        let msg = cap::mqtt::Publish {
            broker: cap::mqtt::Broker {
                scheme: match b.scheme {
                    mqtt::Scheme::Mqtt => cap::mqtt::Scheme::Mqtt,
                    mqtt::Scheme::Mqtts => cap::mqtt::Scheme::Mqtts,
                },
                host: b.host,
                port: b.port,
                protocol: match b.protocol {
                    mqtt::Protocol::V311 => cap::mqtt::Protocol::V311,
                    mqtt::Protocol::V5 => cap::mqtt::Protocol::V5,
                },
                client_id: b.client_id,
                keep_session: b.keep_session,
                keepalive_secs: b.keepalive_secs,
                username: b.username,
                password: b.password,
            },
            topic: msg.topic,
            payload: msg.payload,
            qos: match msg.qos {
                mqtt::Qos::AtMostOnce => cap::mqtt::Qos::AtMostOnce,
                mqtt::Qos::AtLeastOnce => cap::mqtt::Qos::AtLeastOnce,
                mqtt::Qos::ExactlyOnce => cap::mqtt::Qos::ExactlyOnce,
            },
            retain: msg.retain,
        };
        match cap::mqtt::publish(&mut self.call, msg).await {
            Ok(r) => Ok(mqtt::PublishReply {
                packet_id: r.packet_id,
            }),
            Err(e) => Err(match e {
                cap::mqtt::Error::Denied(m) => mqtt::Error::Denied(m),
                cap::mqtt::Error::Rejected(m) => mqtt::Error::Rejected(m),
                cap::mqtt::Error::Unavailable(m) => mqtt::Error::Unavailable(m),
                cap::mqtt::Error::Timeout => mqtt::Error::Timeout,
            }),
        }
    }
}

impl mail::Host for HostState {
    async fn send(&mut self, server: mail::Server, email: mail::Email) -> Result<(), mail::Error> {
        let mailbox = |m: mail::Mailbox| cap::mail::Mailbox {
            name: m.name,
            address: m.address,
        };
        let server = cap::mail::Server {
            host: server.host,
            port: server.port,
            security: match server.security {
                mail::Security::Plain => cap::mail::Security::Plain,
                mail::Security::Starttls => cap::mail::Security::Starttls,
                mail::Security::Tls => cap::mail::Security::Tls,
            },
            user: server.user,
            password: server.password,
        };
        let email = cap::mail::Email {
            sender: mailbox(email.sender),
            to: email.to.into_iter().map(mailbox).collect(),
            subject: email.subject,
            text: email.text,
            html: email.html,
        };
        cap::mail::send(&mut self.call, server, email)
            .await
            .map_err(|e| match e {
                cap::mail::Error::Denied(m) => mail::Error::Denied(m),
                cap::mail::Error::Invalid(m) => mail::Error::Invalid(m),
                cap::mail::Error::Rejected(m) => mail::Error::Rejected(m),
                cap::mail::Error::Unavailable(m) => mail::Error::Unavailable(m),
                cap::mail::Error::Timeout => mail::Error::Timeout,
            })
    }
}

impl crypto::Host for HostState {
    async fn hmac_sha256(&mut self, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
        cap::crypto::hmac_sha256(&self.call, key, msg)
    }
}

impl signing::Host for HostState {
    async fn hmac(&mut self, hash: signing::Hash, key: Vec<u8>, msg: Vec<u8>) -> Vec<u8> {
        let hash = match hash {
            signing::Hash::Sha1 => cap::crypto::Hash::Sha1,
            signing::Hash::Sha256 => cap::crypto::Hash::Sha256,
            signing::Hash::Sha512 => cap::crypto::Hash::Sha512,
        };
        cap::crypto::hmac(&self.call, hash, key, msg)
    }
}

impl keys::Host for HostState {
    async fn sign(
        &mut self,
        alg: keys::Algorithm,
        key: String,
        msg: Vec<u8>,
    ) -> Result<Vec<u8>, String> {
        let alg = match alg {
            keys::Algorithm::Rs256 => cap::keys::Algorithm::Rs256,
            keys::Algorithm::Es256 => cap::keys::Algorithm::Es256,
        };
        cap::keys::sign(&self.call, &mut self.keys, alg, key, msg)
    }
}

impl secrets::Host for HostState {
    async fn starts_with(&mut self, text: String, prefix: String) -> bool {
        self.secrets.starts_with(&self.call, text, prefix)
    }

    async fn split(&mut self, text: String, separator: String, reveal: Vec<u32>) -> Vec<String> {
        self.secrets.split(&mut self.call, text, separator, reveal)
    }
}

impl console::Host for HostState {
    async fn print(&mut self, text: String) {
        self.console.print(&self.call, text)
    }
}

impl log::Host for HostState {
    async fn log(&mut self, level: log::Level, message: String) {
        let level = match level {
            log::Level::Trace => cap::log::Level::Trace,
            log::Level::Debug => cap::log::Level::Debug,
            log::Level::Info => cap::log::Level::Info,
            log::Level::Warn => cap::log::Level::Warn,
            log::Level::Error => cap::log::Level::Error,
        };
        self.log.log(&self.call, level, message)
    }
}

impl delivery::Host for HostState {
    async fn key(&mut self) -> String {
        self.delivery.key()
    }

    async fn parts_sent(&mut self) -> u32 {
        self.delivery.parts_sent()
    }

    async fn set_parts_sent(&mut self, count: u32) {
        self.delivery.set_parts_sent(count)
    }

    async fn reserve_requests(&mut self, requests: u32) -> u32 {
        self.delivery.reserve_requests(&mut self.call, requests)
    }
}

impl cache::Host for HostState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.cache.get(&key)
    }

    async fn set(&mut self, key: String, value: String, ttl_secs: u32) {
        self.cache.set(&self.call, key, value, ttl_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::split_formats;

    #[test]
    fn formats_come_from_the_description() {
        assert_eq!(
            split_formats("Posts [formats: text, html]"),
            ("Posts", vec!["text".to_string(), "html".to_string()])
        );
        assert_eq!(split_formats("Posts"), ("Posts", Vec::new()));
    }
}
