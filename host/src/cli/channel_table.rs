//! `mcp-push channels --markdown`: the README's channel table, made from the
//! plugins' own `info()` so that it cannot drift from what they do.

use crate::plugin::{PluginInfo, Registry};

pub fn markdown(registry: &Registry) -> String {
    let mut out = String::from(
        "| channel | id | environment (`*` required) | one-line URL | formats | edits |\n\
         | --- | --- | --- | --- | --- | --- |\n",
    );
    for p in registry.iter() {
        let i = p.info();
        let (_, formats) = split_formats(&i.description);
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} | {} |\n",
            i.name,
            i.id,
            env_names(i),
            if i.schemes.is_empty() {
                "—".to_string()
            } else {
                i.schemes
                    .iter()
                    .map(|s| format!("`{s}://`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            },
            formats.unwrap_or("text"),
            if i.can_edit { "yes" } else { "—" },
        ));
    }
    out.trim_end().to_string()
}

fn env_names(info: &PluginInfo) -> String {
    let names: Vec<String> = info
        .settings
        .iter()
        .flat_map(|s| {
            s.env
                .iter()
                .map(move |e| format!("`{e}`{}", if s.required { "*" } else { "" }))
        })
        .collect();
    if names.is_empty() {
        "—".into()
    } else {
        names.join(" ")
    }
}

/// A description's trailing `[formats: a, b]` (see the SDK's
/// `ChannelInfo::formats`), and the description without it.
pub(crate) fn split_formats(description: &str) -> (&str, Option<&str>) {
    match description.rsplit_once(" [formats: ") {
        Some((d, rest)) if rest.ends_with(']') => (d, Some(&rest[..rest.len() - 1])),
        _ => (description, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_come_from_the_description() {
        assert_eq!(
            split_formats("Posts [formats: text, html]"),
            ("Posts", Some("text, html"))
        );
        assert_eq!(split_formats("Posts"), ("Posts", None));
    }
}
