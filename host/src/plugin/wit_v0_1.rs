//! Bindings for `mcp-push:channel@0.1.x` and the conversions between them and
//! the host's own types. When 0.2 comes, it gets a module of its own beside
//! this one, and 0.1 components keep loading through this one.

use super::error::DeliveryError;
use super::info::{PluginInfo, SettingSpec, secret_by_name, validate};
use crate::notification::{self as n, Notification};
use mcp_push_policy::Shapes;

// The world with every export a 0.1 component may have. `shapes` is
// optional (components built before it export `channel` only), so the host
// looks the exports up one by one (`ChannelIndices`, `ShapesIndices`) instead
// of through the world's all-or-nothing `ShapedPluginPre`.
wasmtime::component::bindgen!({
    path: "../wit",
    world: "shaped-plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use self::exports::mcp_push::channel::channel::{
    Guest as Channel, GuestIndices as ChannelIndices,
};
pub use self::exports::mcp_push::channel::shapes::{
    Guest as ShapesExport, GuestIndices as ShapesIndices,
};
pub use self::mcp_push::channel::{
    cache, console, crypto, delivery, http, log, mail, secrets, types,
};
pub use ShapedPlugin as Plugin;

/// The WIT package version this module implements.
pub const WIT_VERSION: &str = "0.1.0";
/// The export a component of this version must have (any 0.1.x matches).
pub(crate) const EXPORT_PREFIX: &str = "mcp-push:channel/channel@";

pub(crate) fn supports(version: &str) -> bool {
    version.starts_with("0.1.")
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

/// The plugin's self-description and its shapes, checked together (an
/// allowed host may name a public part of a shape).
pub(crate) fn info(
    raw: types::ChannelInfo,
    shapes: Vec<exports::mcp_push::channel::shapes::Shape>,
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
