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
            if i.formats.is_empty() {
                "text".to_string()
            } else {
                i.formats.join(", ")
            },
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
