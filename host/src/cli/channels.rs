use super::Cli;
use super::output::outln;
use crate::app::App;
use crate::catalog::Catalog;
use crate::config::Channel;
use crate::plugin::trust::Verdict;
use crate::plugin::{PluginSource, Registry};
use crate::redact::{redact, redact_name};
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
    let app = match super::load(cli).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    if args.json {
        outln!("{}", Catalog::of(&app).to_json());
    } else if args.markdown {
        outln!(
            "{}",
            redact(&super::channel_table::markdown(&app.loaded().registry))
        );
    } else {
        // Redacted part by part inside: names are masked as names.
        outln!("{}", as_text(&app));
    }
    ExitCode::SUCCESS
}

fn as_text(app: &App) -> String {
    let loaded = app.loaded();
    let (registry, config) = (&loaded.registry, &loaded.config);
    let mut out = String::from("Plugins:\n");
    for p in registry.iter() {
        let i = p.info();
        let hosts: Vec<String> = i.allowed_hosts.iter().map(|h| h.to_string()).collect();
        out.push_str(&format!(
            "  {:<12} {:<8} {:<8} hosts: {}\n      {}\n",
            i.id,
            i.version,
            match p.source() {
                PluginSource::Bundled => "bundled".to_string(),
                PluginSource::File(path) => path.display().to_string(),
            },
            hosts.join(", "),
            i.description
        ));
        if let Some(v) = registry.verdict(&i.id) {
            out.push_str(&format!("      {}\n", v.describe(&i.id)));
        }
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
    for h in registry.held() {
        let i = h.plugin.info();
        out.push_str(&format!(
            "  {:<12} {:<8} {:<8} not used: {}\n",
            i.id,
            i.version,
            h.plugin.source(),
            h.verdict.describe(&i.id)
        ));
    }
    out.push_str("\nChannels:\n");
    if config.channels.is_empty() {
        out.push_str("  (none: set a plugin's environment variables, marked * when required, or add [channels.NAME] to the config file)\n");
    }
    for c in &config.channels {
        let origin = match &c.origin {
            crate::config::Origin::Environment => "environment".to_string(),
            crate::config::Origin::File(p) => p.display().to_string(),
            crate::config::Origin::CommandLine => "the command line".to_string(),
        };
        out.push_str(&format!(
            "  {}  plugin {}, from {}, hosts: {}{}\n",
            redact_name(c.id.as_str()),
            c.plugin.info().id,
            redact(&origin),
            redact(&c.allow_list().describe().join(", ")),
            trust_mark(registry, c)
        ));
        for (k, v) in c.masked_settings() {
            out.push_str(&format!(
                "      {} = {}\n",
                redact_name(&k),
                redact(&v).replace('\n', "\\n")
            ));
        }
    }
    for (name, why) in &config.not_enabled {
        out.push_str(&format!(
            "  {}  not enabled: {}\n",
            redact_name(name),
            redact(why)
        ));
    }
    for w in registry.warnings() {
        out.push_str(&format!("\nwarning: {}", redact(&w.to_string())));
    }
    for n in registry.notices() {
        out.push_str(&format!("\nwarning: {}", redact(&n.to_string())));
    }
    out
}

/// ` (replaces bundled telegram)`, ` (plugin file ... awaits approval ...)`
/// or nothing: what the user's trust changed for this channel.
fn trust_mark(registry: &Registry, c: &Channel) -> String {
    let id = &c.plugin.info().id;
    if let (
        PluginSource::File(_),
        Some(Verdict::Approved {
            replaces_bundled: true,
        }),
    ) = (c.plugin.source(), registry.verdict(id))
    {
        return format!(" (replaces bundled {id})");
    }
    match registry.held_by_id(id) {
        Some(h) if *c.plugin.source() == PluginSource::Bundled => format!(
            " (the bundled {id}: {} is {})",
            h.plugin.source(),
            h.verdict.describe(id)
        ),
        _ => String::new(),
    }
}
