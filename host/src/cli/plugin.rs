//! `mcp-push plugin ...`: what a channel author and a user installing a
//! third-party channel need.

use super::output::{out, outln};
use super::{Cli, EXIT_FAILED, fail};
use crate::config::Paths;
use crate::plugin::manage::{self, Approved, InstallError, Standing};
use crate::plugin::trust::{Capabilities, TrustFile, Verdict};
use crate::plugin::{Held, Plugin, PluginSource, Registry, Runtime, RuntimeOptions};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(clap::Subcommand, Debug)]
enum PluginCommand {
    /// Create a channel crate (out of tree) from a working example
    New(NewArgs),
    /// Check a .wasm the way mcp-push loads it, without sending anything
    Check(CheckArgs),
    /// Check a .wasm, then copy it into the plugins directory as <id>.wasm
    Install(InstallArgs),
    /// Remove an installed plugin from the plugins directory
    Remove(RemoveArgs),
    /// Approve a plugin file as it is now: its hosts, secret settings and environment names
    Trust(TrustArgs),
    /// List the plugins: bundled, and installed in the plugins directory
    List(ListArgs),
    /// Write a copy of this executable carrying every bundled channel
    /// compiled for this machine, so its first start compiles nothing (for
    /// packaging; or --in-place, after `cargo install`)
    Precompile(PrecompileArgs),
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["out", "in_place"])))]
struct PrecompileArgs {
    /// Where to write the executable
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace this executable itself (run it again after each `cargo install`)
    #[arg(long)]
    in_place: bool,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct NewArgs {
    /// The channel's id: lowercase letters, digits and `-`, starting with a letter
    name: String,
    /// Where to create the crate [default: ./NAME]
    #[arg(long, value_name = "DIR")]
    path: Option<PathBuf>,
    /// The mcp-push-sdk crate to depend on [default: the SDK of the source tree this mcp-push was built from]
    #[arg(long, value_name = "PATH")]
    sdk: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// The component to check (a .wasm built for wasm32-wasip2)
    #[arg(value_name = "FILE.wasm")]
    file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct InstallArgs {
    /// The component to install (a .wasm built for wasm32-wasip2)
    #[arg(value_name = "FILE.wasm")]
    file: PathBuf,
    /// Replace an installed plugin of the same id that is a different build,
    /// replace a bundled plugin, or approve what changed since you last approved it
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args, Debug)]
struct TrustArgs {
    /// The plugin's id (as `plugin list` shows it)
    id: String,
}

#[derive(clap::Args, Debug)]
struct RemoveArgs {
    /// The plugin's id (as `plugin list` shows it)
    id: String,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &PluginArgs) -> ExitCode {
    match &args.command {
        PluginCommand::New(a) => new(a),
        PluginCommand::Check(a) => check(cli, a).await,
        PluginCommand::Install(a) => install(cli, a).await,
        PluginCommand::Remove(a) => remove(cli, a).await,
        PluginCommand::Trust(a) => trust(cli, a).await,
        PluginCommand::List(a) => list(cli, a).await,
        PluginCommand::Precompile(a) => precompile(cli, a).await,
    }
}

async fn precompile(cli: &Cli, args: &PrecompileArgs) -> ExitCode {
    // Through the compile cache: compiled once, whether for this or for a start.
    let rt = match runtime(&paths(cli)) {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    match crate::plugin::precompiled::write_executable(&rt, args.out.as_deref()).await {
        Ok(w) if args.json => {
            outln!("{}", json!(w));
            ExitCode::SUCCESS
        }
        Ok(w) => {
            let (path, mb, n) = (w.path.display(), w.bytes as f64 / 1e6, w.plugins);
            if args.in_place {
                outln!(
                    "replaced {path} ({mb:.1} MB) with itself and {n} bundled channels compiled for this machine: its first start compiles nothing"
                );
            } else {
                outln!(
                    "wrote {path} ({mb:.1} MB): this executable and {n} bundled channels compiled for this machine"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e @ crate::plugin::precompiled::PrecompileError::Io { .. }) if args.in_place => {
            fail(&format!(
                "cannot replace this executable: {e}; run this as the owner of its directory, or write a copy with --out FILE"
            ))
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn paths(cli: &Cli) -> Paths {
    let options = cli.app_options();
    Paths::resolve(options.plugins_dir.as_deref(), options.cache_dir.as_deref())
}

fn runtime(paths: &Paths) -> Result<Runtime, String> {
    Runtime::new(RuntimeOptions {
        cache_dir: paths.cache_dir.clone(),
        ..Default::default()
    })
    .map_err(|e| format!("cannot start the plugin runtime: {e:#}"))
}

fn plugins_dir(paths: &Paths) -> Result<PathBuf, String> {
    paths.plugins_dir.clone().ok_or_else(|| {
        "no plugins directory: this platform has no data directory; pass --plugins-dir DIR".into()
    })
}

/// The user's record of approved plugin files; one that cannot be read is
/// an error here (approving into it would drop what it held).
fn trust_file(paths: &Paths) -> Result<TrustFile, String> {
    let path = paths.trust_file.as_deref().ok_or(
        "no config directory on this platform to keep approved plugins in: set HOME or XDG_CONFIG_HOME",
    )?;
    TrustFile::load(path).map_err(|e| e.to_string())
}

fn new(args: &NewArgs) -> ExitCode {
    let dir = args
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    match super::scaffold::create(&args.name, &dir, args.sdk.as_deref()) {
        Ok(created) => {
            outln!(
                "Created the channel `{}` in {}\n\n  cd {}\n  cargo test                                    # natively, with canned replies\n  cargo build --target wasm32-wasip2 --release  # the component\n  mcp-push plugin install {}\n\nThe guide for channel authors: {}",
                args.name,
                absolute(&created.dir).display(),
                created.dir.display(),
                created.wasm.display(),
                created.guide.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `dir` from the root, for a message read after a `cd`.
fn absolute(dir: &std::path::Path) -> PathBuf {
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

async fn check(cli: &Cli, args: &CheckArgs) -> ExitCode {
    let paths = paths(cli);
    let rt = match runtime(&paths) {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    let trust = match trust_file(&paths) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let file = args.file.display().to_string();
    match manage::check(&rt, &args.file).await {
        Ok(plugin) => {
            let advice = manage::advice(&plugin);
            let standing = manage::standing(&rt, &plugin, &trust).await;
            if args.json {
                let mut v = describe(&plugin);
                v["ok"] = json!(true);
                v["file"] = json!(file);
                v["advice"] = json!(advice);
                v["approval"] = approval_json(&plugin, &standing);
                outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                outln!("ok: {file} is a channel mcp-push can load\n");
                out!("{}", as_text(&plugin));
                out!("{}", standing_text(&plugin, &standing));
                for a in advice {
                    outln!("note: {a}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if args.json {
                let v = json!({ "ok": false, "file": file, "error": e.to_string() });
                outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                eprintln!("error: {file} cannot be used as a channel: {e}");
            }
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn install(cli: &Cli, args: &InstallArgs) -> ExitCode {
    let paths = paths(cli);
    let (rt, dir) = match runtime(&paths).and_then(|rt| Ok((rt, plugins_dir(&paths)?))) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let mut trust = match trust_file(&paths) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    match manage::install(&rt, &args.file, &dir, &mut trust, args.force).await {
        Ok((plugin, done)) => {
            let i = plugin.info();
            if done.unchanged {
                outln!(
                    "{} {} is already installed, the same build ({}); no file changed",
                    i.id,
                    i.version,
                    done.path.display()
                );
                print_approved(&i.id, done.approved.as_ref(), &trust);
                return ExitCode::SUCCESS;
            }
            outln!(
                "installed {} {} as {}",
                i.id,
                i.version,
                done.path.display()
            );
            for (path, version) in &done.replaced {
                outln!("replaced {} {version} ({})", i.id, path.display());
            }
            if done.overwrote_broken {
                outln!("overwrote a file there that was not a usable plugin");
            }
            if done.replaces_bundled {
                outln!(
                    "it replaces the bundled `{}` (`mcp-push plugin remove {}` brings that back)",
                    i.id,
                    i.id
                );
            }
            print_approved(&i.id, done.approved.as_ref(), &trust);
            outln!(
                "a running `mcp-push mcp` or `mcp-push serve` with this plugins directory picks it up without a restart"
            );
            ExitCode::SUCCESS
        }
        Err(InstallError::Check(e)) => {
            eprintln!(
                "error: {} cannot be used as a channel: {e}",
                args.file.display()
            );
            ExitCode::from(EXIT_FAILED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn remove(cli: &Cli, args: &RemoveArgs) -> ExitCode {
    let paths = paths(cli);
    let (rt, dir) = match runtime(&paths).and_then(|rt| Ok((rt, plugins_dir(&paths)?))) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let mut trust = match trust_file(&paths) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    match manage::remove(&rt, &dir, &mut trust, &args.id).await {
        Ok(done) => {
            for (path, version) in &done.files {
                match version {
                    Some(v) => outln!("removed {} {v} ({})", args.id, path.display()),
                    None => outln!("removed {} (a broken file)", path.display()),
                }
            }
            if done.bundled_again {
                outln!("the bundled `{}` is used again", args.id);
            }
            if done.forgot_approval {
                outln!(
                    "your approval of `{}` is forgotten: a file of this id is asked about again",
                    args.id
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

async fn trust(cli: &Cli, args: &TrustArgs) -> ExitCode {
    let paths = paths(cli);
    let (rt, dir) = match runtime(&paths).and_then(|rt| Ok((rt, plugins_dir(&paths)?))) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let mut trust = match trust_file(&paths) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    match manage::approve(&rt, &dir, &mut trust, &args.id).await {
        Ok(done) => {
            let i = done.plugin.info();
            let source = done.plugin.source();
            match (&done.approved, &done.standing.verdict) {
                (None, Verdict::Shipped) => outln!(
                    "{} {} ({source}) is the bundled build itself; nothing to approve",
                    i.id,
                    i.version
                ),
                (None, _) => {
                    outln!(
                        "{} {} ({source}) is already approved as it is; nothing changed",
                        i.id,
                        i.version
                    );
                    for l in done.standing.lines(&i.id) {
                        outln!("  {l}");
                    }
                }
                (Some(a), _) => {
                    outln!("approved {} {} ({source})", i.id, i.version);
                    print_approved(&i.id, Some(a), &trust);
                    outln!(
                        "a running `mcp-push mcp` or `mcp-push serve` with this plugins directory picks it up without a restart"
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// What an install or `trust` approved, and how that differs from before.
fn print_approved(id: &str, approved: Option<&Approved>, trust: &TrustFile) {
    let Some(a) = approved else { return };
    let where_ = trust
        .path()
        .map(|p| format!(" (recorded in {})", p.display()))
        .unwrap_or_default();
    outln!("approved{where_}:");
    for l in a.capabilities.lines(id) {
        outln!("  {l}");
    }
    if let Some(p) = &a.previous {
        let diff = p.capabilities.diff(&a.capabilities);
        if !diff.is_empty() {
            outln!("changed since you approved {id} {}:", p.version);
            for l in diff.lines() {
                outln!("  {l}");
            }
        }
    }
}

/// `plugin check`: how the file stands and what approving it gives.
fn standing_text(plugin: &Plugin, s: &Standing) -> String {
    let id = &plugin.info().id;
    let state = match &s.verdict {
        Verdict::Shipped => "the bundled build itself: trusted as shipped".to_string(),
        Verdict::Approved { .. } => "approved as it is".to_string(),
        Verdict::Unapproved => format!(
            "not approved: usable where the config file names it, reads no environment \
             until `mcp-push plugin install` or `mcp-push plugin trust {id}`"
        ),
        Verdict::Awaiting { .. } => format!(
            "needs approval before it is used: `mcp-push plugin install --force` or, once in \
             the plugins directory, `mcp-push plugin trust {id}`"
        ),
    };
    let mut out = format!("  approval       {state}\n");
    if s.verdict != Verdict::Shipped {
        out.push_str("  approving gives\n");
        for l in s.lines(id) {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out
}

fn approval_json(plugin: &Plugin, s: &Standing) -> serde_json::Value {
    let previous = s.previous.as_ref();
    json!({
        "state": verdict_name(&s.verdict),
        "describe": s.verdict.describe(&plugin.info().id),
        "would_approve": s.capabilities,
        "approved_before": previous,
        "diff": previous.map(|p| p.capabilities.diff(&s.capabilities)),
    })
}

fn verdict_name(v: &Verdict) -> &'static str {
    match v {
        Verdict::Shipped => "shipped",
        Verdict::Approved { .. } => "approved",
        Verdict::Unapproved => "unapproved",
        Verdict::Awaiting { .. } => "awaiting",
    }
}

/// How a plugin in a listing stands with the user.
fn approval_of(reg: &Registry, p: &Plugin) -> String {
    match p.source() {
        PluginSource::Bundled => "bundled".into(),
        PluginSource::File(_) => reg
            .verdict(&p.info().id)
            .map(|v| v.describe(&p.info().id))
            .unwrap_or_default(),
    }
}

/// What approving a held-back file gives, and what changed.
fn held_lines(h: &Held) -> Vec<String> {
    let Verdict::Awaiting {
        replaces_bundled,
        diff,
    } = &h.verdict
    else {
        return Vec::new();
    };
    let id = &h.plugin.info().id;
    let mut out = Capabilities::of(&h.plugin, *replaces_bundled).lines(id);
    if let Some(d) = diff {
        out.push("changed since you approved it:".into());
        out.extend(d.lines().into_iter().map(|l| format!("  {l}")));
    }
    out
}

async fn list(cli: &Cli, args: &ListArgs) -> ExitCode {
    let paths = paths(cli);
    let rt = match runtime(&paths) {
        Ok(rt) => rt,
        Err(e) => return fail(&e),
    };
    let reg = manage::list(&rt, paths.plugins_dir.as_deref()).await;
    if args.json {
        let entry = |p: &Plugin, approval: String, used: bool| {
            let mut v = describe(p);
            v["approval"] = json!(approval);
            v["used"] = json!(used);
            v
        };
        let mut plugins: Vec<serde_json::Value> = reg
            .iter()
            .map(|p| entry(p, approval_of(&reg, p), true))
            .collect();
        plugins.extend(
            reg.held()
                .map(|h| entry(&h.plugin, h.verdict.describe(&h.plugin.info().id), false)),
        );
        let v = json!({
            "plugins_dir": paths.plugins_dir,
            "trust_file": paths.trust_file,
            "plugins": plugins,
            "warnings": reg.warnings().iter().map(|w| w.to_string()).chain(reg.notices().iter().cloned()).collect::<Vec<_>>(),
        });
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    match &paths.plugins_dir {
        Some(d) => outln!("plugins directory: {}\n", d.display()),
        None => outln!("plugins directory: none (pass --plugins-dir)\n"),
    }
    for p in reg.iter() {
        let i = p.info();
        let source = match p.source() {
            PluginSource::Bundled => "bundled".to_string(),
            PluginSource::File(path) => path.display().to_string(),
        };
        outln!(
            "{:<14} {:<9} {:>9}  {}{}",
            i.id,
            i.version,
            human_size(p.size()),
            source,
            match p.source() {
                PluginSource::Bundled => String::new(),
                PluginSource::File(_) => format!("  [{}]", approval_of(&reg, p)),
            }
        );
    }
    for h in reg.held() {
        let i = h.plugin.info();
        let source = match h.plugin.source() {
            PluginSource::Bundled => "bundled".to_string(),
            PluginSource::File(path) => path.display().to_string(),
        };
        outln!(
            "{:<14} {:<9} {:>9}  {}  [not used: {}]",
            i.id,
            i.version,
            human_size(h.plugin.size()),
            source,
            h.verdict.describe(&i.id)
        );
        for l in held_lines(h) {
            outln!("{:<16}{l}", "");
        }
    }
    for w in reg.warnings() {
        outln!("\nwarning: {w}");
    }
    for n in reg.notices() {
        outln!("\nwarning: {n}");
    }
    ExitCode::SUCCESS
}

/// A plugin as JSON (check, list).
fn describe(p: &Plugin) -> serde_json::Value {
    let i = p.info();
    json!({
        "id": i.id,
        "name": i.name,
        "version": i.version,
        "description": i.description,
        "wit": format!("mcp-push:channel@{}", p.wit_version()),
        "source": p.source(),
        "size": p.size(),
        "sha256": p.sha256(),
        "settings": i.settings,
        "allowed_hosts": i.allowed_hosts,
        "schemes": i.schemes,
        "formats": i.formats,
        "can_edit": i.can_edit,
        "can_reply": i.can_reply,
    })
}

fn as_text(p: &Plugin) -> String {
    let i = p.info();
    let none = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    let hosts: Vec<String> = i.allowed_hosts.iter().map(|h| h.to_string()).collect();
    let mut out = format!(
        "  id             {}\n  name           {}\n  version        {}\n  description    {}\n  built for      mcp-push:channel@{}\n  size           {} (sha256 {})\n  allowed hosts  {}\n  schemes        {}\n  formats        {}\n  can edit       {}\n  can reply      {}\n  settings{}\n",
        i.id,
        i.name,
        i.version,
        i.description,
        p.wit_version(),
        human_size(p.size()),
        &p.sha256()[..16],
        none(&hosts),
        none(&i.schemes),
        none(&i.formats),
        if i.can_edit { "yes" } else { "no" },
        if i.can_reply {
            "yes (questions with buttons)"
        } else {
            "no (reply link only)"
        },
        if i.settings.is_empty() {
            "       none"
        } else {
            ""
        },
    );
    for s in &i.settings {
        let mut flags = Vec::new();
        if s.required {
            flags.push("required".to_string());
        }
        if s.secret {
            flags.push("secret".to_string());
        }
        if let Some(d) = &s.default {
            flags.push(format!("default {d}"));
        }
        out.push_str(&format!(
            "    {:<16} {:<24} {}{}\n",
            s.key,
            s.env.join(" "),
            s.help,
            if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            }
        ));
    }
    out
}

fn human_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1 << 20 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    }
}
