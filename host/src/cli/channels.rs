use super::{App, Cli, fail};
use crate::redact::redact;
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct ChannelsArgs {
    /// Print JSON instead of text
    #[arg(long, conflicts_with = "markdown")]
    json: bool,
    /// Print the plugins as a Markdown table (the README's channel table)
    #[arg(long)]
    markdown: bool,
}

pub async fn run(cli: &Cli, args: &ChannelsArgs) -> ExitCode {
    let app = match App::load(cli).await {
        Ok(app) => app,
        Err(e) => return fail(&e),
    };
    let text = if args.json {
        as_json(&app)
    } else if args.markdown {
        super::channel_table::markdown(&app.registry)
    } else {
        as_text(&app)
    };
    println!("{}", redact(&text));
    ExitCode::SUCCESS
}

fn as_json(app: &App) -> String {
    let plugins: Vec<_> = app
        .registry
        .iter()
        .map(|p| {
            let i = p.info();
            json!({
                "id": i.id, "name": i.name, "version": i.version, "description": i.description,
                "source": p.source(), "size": p.size(), "sha256": p.sha256(),
                "allowed_hosts": i.allowed_hosts, "schemes": i.schemes, "can_edit": i.can_edit,
                "settings": i.settings,
            })
        })
        .collect();
    let channels: Vec<_> = app
        .config
        .channels
        .iter()
        .map(|c| {
            let settings: serde_json::Map<String, serde_json::Value> = c
                .masked_settings()
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect();
            json!({
                "name": c.id, "plugin": c.plugin.info().id, "origin": c.origin,
                "allowed_hosts": c.allow_list().describe(), "settings": settings,
            })
        })
        .collect();
    let warnings: Vec<String> = app
        .registry
        .warnings()
        .iter()
        .map(|w| w.to_string())
        .collect();
    serde_json::to_string_pretty(&json!({
        "plugins": plugins, "channels": channels, "warnings": warnings,
        "plugins_dir": app.paths.plugins_dir, "config_file": app.config.file,
    }))
    .unwrap_or_default()
}

fn as_text(app: &App) -> String {
    let mut out = String::from("Plugins:\n");
    for p in app.registry.iter() {
        let i = p.info();
        let hosts: Vec<String> = i.allowed_hosts.iter().map(|h| h.to_string()).collect();
        out.push_str(&format!(
            "  {:<12} {:<8} {:<8} hosts: {}\n      {}\n",
            i.id,
            i.version,
            match p.source() {
                crate::plugin::PluginSource::Bundled => "bundled".to_string(),
                crate::plugin::PluginSource::File(path) => path.display().to_string(),
            },
            hosts.join(", "),
            i.description
        ));
        let env: Vec<String> = i
            .settings
            .iter()
            .filter(|s| !s.env.is_empty())
            .map(|s| format!("{}{}", s.env.join("|"), if s.required { "*" } else { "" }))
            .collect();
        if !env.is_empty() {
            out.push_str(&format!("      env: {}\n", env.join(" ")));
        }
    }
    out.push_str("\nChannels:\n");
    if app.config.channels.is_empty() {
        out.push_str("  (none: set a plugin's environment variables, marked * when required, or add [channels.NAME] to the config file)\n");
    }
    for c in &app.config.channels {
        let origin = match &c.origin {
            crate::config::Origin::Environment => "environment".to_string(),
            crate::config::Origin::File(p) => p.display().to_string(),
        };
        out.push_str(&format!(
            "  {}  plugin {}, from {}, hosts: {}\n",
            c.id,
            c.plugin.info().id,
            origin,
            c.allow_list().describe().join(", ")
        ));
        for (k, v) in c.masked_settings() {
            out.push_str(&format!("      {k} = {}\n", v.replace('\n', "\\n")));
        }
    }
    for w in app.registry.warnings() {
        out.push_str(&format!("\nwarning: {w}"));
    }
    out
}
