//! `mcp-push watch add|list|show|edit|pause|resume|rm|run`: the watchers
//! from the command line. Each subcommand renders one `ops::watchers` call;
//! the rules (what a spec may say, what the file owns) live there. The CLI
//! has no watchers' task: checks run in `serve` or `mcp`, and `run` checks
//! once, here.

use super::inline::local_time;
use super::output::outln;
use super::{Cli, fail};
use crate::ops::watchers::{self, Trial, WatcherRef, WatcherView};
use crate::redact::redact;
use crate::store::{ClaimScope, WatcherOrigin};
use crate::watch::Runner;
use serde_json::{Map, Value, json};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    #[command(subcommand)]
    command: WatchCommand,
}

#[derive(clap::Subcommand, Debug)]
enum WatchCommand {
    /// Add a watcher: a kind with its fields (--web, --feed, --threshold or
    /// --schedule), or a JSON spec (--spec)
    Add {
        /// Its name: a letter first, then letters, digits, - and _
        name: String,
        #[command(flatten)]
        fields: Fields,
        #[arg(long)]
        json: bool,
    },
    /// List the watchers
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one watcher (by id or name)
    Show {
        watcher: String,
        #[arg(long)]
        json: bool,
    },
    /// Change some fields of a watcher; it starts over (a new baseline)
    Edit {
        watcher: String,
        #[command(flatten)]
        fields: Fields,
        #[arg(long)]
        json: bool,
    },
    /// Stop checking a watcher until it is resumed
    Pause {
        watcher: String,
        #[arg(long)]
        json: bool,
    },
    /// Check a paused watcher again
    Resume {
        watcher: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a watcher (its events stay in the log)
    Rm {
        watcher: String,
        #[arg(long)]
        json: bool,
    },
    /// Check a watcher now and print what it would send (sends with --send)
    Run {
        watcher: String,
        /// Send what it finds, and record the check like a scheduled one
        #[arg(long)]
        send: bool,
        #[arg(long)]
        json: bool,
    },
}

/// A watcher's fields as options. Each one given becomes a field of the
/// spec; `--spec` gives them all as JSON, and the options given beside it win.
#[derive(clap::Args, Debug, Default)]
struct Fields {
    /// The whole spec as a JSON object, or `-` to read it from stdin
    #[arg(long, value_name = "JSON|-")]
    spec: Option<String>,
    /// A web page to watch (kind web); repeat for more
    #[arg(long, value_name = "URL")]
    web: Vec<String>,
    /// An RSS, Atom or JSON feed (kind feed); repeat for more
    #[arg(long, value_name = "URL")]
    feed: Vec<String>,
    /// A URL answering the number to watch (kind threshold)
    #[arg(long, value_name = "URL")]
    threshold: Option<String>,
    /// When to send (kind schedule): `every 30m`, `daily 08:00`,
    /// `weekdays 09:00` or 5-field cron
    #[arg(long, value_name = "WHEN")]
    schedule: Option<String>,
    /// How often a page, feed or number is checked (`30m`)
    #[arg(long, value_name = "DURATION")]
    every: Option<String>,
    /// Fire only on new lines or items with this word; repeat for more
    #[arg(long)]
    keyword: Vec<String>,
    /// A CSS selector: only that part of the page is watched
    #[arg(long, value_name = "CSS")]
    selector: Option<String>,
    /// Send a feed's new items together on this schedule (`daily 08:00`)
    #[arg(long, value_name = "WHEN")]
    digest: Option<String>,
    /// The IANA time zone of a schedule or digest (UTC when left out)
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// A JSON pointer to the number in the answer (`/bitcoin/usd`)
    #[arg(long)]
    pointer: Option<String>,
    /// A regular expression on the answer's text; its first group is the number
    #[arg(long)]
    regex: Option<String>,
    /// Fire when the number goes above this
    #[arg(long, allow_negative_numbers = true)]
    above: Option<f64>,
    /// Fire when the number goes below this
    #[arg(long, allow_negative_numbers = true)]
    below: Option<f64>,
    /// The notification's title (a template: `{value}`, `{title}`, ...)
    #[arg(long)]
    title: Option<String>,
    /// The notification's body (a template)
    #[arg(long)]
    body: Option<String>,
    #[arg(long, value_parser = ["min", "low", "normal", "high", "urgent"])]
    priority: Option<String>,
    /// A tag; repeat for more
    #[arg(long)]
    tag: Vec<String>,
    /// Only this channel; repeat for more
    #[arg(long)]
    channel: Vec<String>,
}

impl Fields {
    /// The spec fields these options give; `stdin` is read for `--spec -`.
    fn to_map(
        &self,
        stdin: impl FnOnce() -> std::io::Result<String>,
    ) -> Result<Map<String, Value>, String> {
        let mut m = match self.spec.as_deref() {
            None => Map::new(),
            Some(text) => {
                let text = if text == "-" {
                    stdin().map_err(|e| format!("--spec -: cannot read stdin: {e}"))?
                } else {
                    text.to_string()
                };
                match serde_json::from_str(&text) {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => return Err("--spec: expected a JSON object".into()),
                    Err(e) => return Err(format!("--spec: not JSON: {e}")),
                }
            }
        };
        let kinds: Vec<&str> = [
            (!self.web.is_empty()).then_some("web"),
            (!self.feed.is_empty()).then_some("feed"),
            self.threshold.as_ref().map(|_| "threshold"),
            self.schedule.as_ref().map(|_| "schedule"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if kinds.len() > 1 {
            return Err(format!(
                "--{} and --{}: a watcher has one kind",
                kinds[0], kinds[1]
            ));
        }
        if let Some(kind) = kinds.first() {
            m.insert("kind".into(), json!(kind));
        }
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        if !self.web.is_empty() {
            put("urls", json!(self.web));
        }
        if !self.feed.is_empty() {
            put("urls", json!(self.feed));
        }
        let strings = [
            ("url", &self.threshold),
            ("schedule", &self.schedule),
            ("every", &self.every),
            ("selector", &self.selector),
            ("digest", &self.digest),
            ("timezone", &self.timezone),
            ("pointer", &self.pointer),
            ("regex", &self.regex),
            ("title", &self.title),
            ("body", &self.body),
            ("priority", &self.priority),
        ];
        for (k, v) in strings {
            if let Some(v) = v {
                put(k, json!(v));
            }
        }
        for (k, v) in [("above", self.above), ("below", self.below)] {
            if let Some(v) = v {
                put(k, json!(v));
            }
        }
        for (k, v) in [
            ("keywords", &self.keyword),
            ("tags", &self.tag),
            ("channels", &self.channel),
        ] {
            if !v.is_empty() {
                put(k, json!(v));
            }
        }
        Ok(m)
    }
}

fn read_stdin() -> std::io::Result<String> {
    std::io::read_to_string(std::io::stdin())
}

pub async fn run(cli: &Cli, args: &WatchArgs) -> ExitCode {
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let hub = Arc::new(app.hub(store));
    let runner = match Runner::new(hub.clone(), app.watch.clone()) {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot check watchers: {e}")),
    };
    let r = &runner;
    let shown = match &args.command {
        WatchCommand::Add { name, fields, json } => {
            let mut spec = match fields.to_map(read_stdin) {
                Ok(m) => m,
                Err(e) => return fail(&e),
            };
            spec.insert("name".into(), json!(name));
            one(
                watchers::create(r, Value::Object(spec), WatcherOrigin::Api).await,
                *json,
                "added",
            )
        }
        WatchCommand::List { json } => match watchers::list(r).await {
            Ok(all) if *json => print_json(&all),
            Ok(all) if all.is_empty() => {
                outln!("no watchers yet: `mcp-push watch add NAME --web URL --every 30m` adds one");
                Ok(())
            }
            Ok(all) => {
                for w in &all {
                    outln!("{}", redact(&list_line(w)));
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        },
        WatchCommand::Show { watcher, json } => one(
            watchers::get(r, &WatcherRef::parse(watcher)).await,
            *json,
            "",
        ),
        WatchCommand::Edit {
            watcher,
            fields,
            json,
        } => {
            let patch = match fields.to_map(read_stdin) {
                Ok(m) if m.is_empty() => {
                    return fail("edit: give the fields to change (see --help)");
                }
                Ok(m) => m,
                Err(e) => return fail(&e),
            };
            one(
                watchers::update(r, &WatcherRef::parse(watcher), Value::Object(patch)).await,
                *json,
                "changed",
            )
        }
        WatchCommand::Pause { watcher, json } => one(
            watchers::pause(r, &WatcherRef::parse(watcher)).await,
            *json,
            "paused",
        ),
        WatchCommand::Resume { watcher, json } => one(
            watchers::resume(r, &WatcherRef::parse(watcher)).await,
            *json,
            "resumed",
        ),
        WatchCommand::Rm { watcher, json } => one(
            watchers::delete(r, &WatcherRef::parse(watcher)).await,
            *json,
            "removed",
        ),
        WatchCommand::Run {
            watcher,
            send,
            json,
        } => match watchers::run(r, &WatcherRef::parse(watcher), *send).await {
            Ok(trial) => {
                if trial.sent {
                    deliver(&hub, &trial).await;
                }
                if *json {
                    print_json(&trial)
                } else {
                    print_trial(&trial);
                    Ok(())
                }
            }
            Err(e) => Err(e.to_string()),
        },
    };
    match shown {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The events a `run --send` wrote, delivered before the command exits (it
/// has no worker of its own otherwise); what cannot go out in 30 s stays in
/// the outbox for `serve`, `mcp` or `flush`.
async fn deliver(hub: &Arc<crate::hub::Hub>, trial: &Trial) {
    for event in &trial.events {
        let worker = hub.spawn_worker(ClaimScope::Event(*event));
        let since = std::time::Instant::now();
        let _ = hub
            .wait(*event, since, since + std::time::Duration::from_secs(30))
            .await;
        worker.finish().await;
    }
}

fn one(
    result: Result<WatcherView, crate::ops::OpError>,
    json: bool,
    done: &str,
) -> Result<(), String> {
    let w = result.map_err(|e| e.to_string())?;
    if json {
        return print_json(&w);
    }
    if !done.is_empty() {
        outln!("{done} watcher {} ({})", w.id, w.name);
    }
    print_view(&w);
    Ok(())
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    outln!("{}", redact(&text));
    Ok(())
}

/// `3  ai-news  web  active  next 14:30  last fired -`
fn list_line(w: &WatcherView) -> String {
    let mut line = format!(
        "{:<4} {:<20} {:<9} {}",
        w.id.to_string(),
        w.name,
        w.kind,
        state_word(w)
    );
    if w.origin == WatcherOrigin::File {
        line.push_str(" (config file)");
    }
    line.push_str(&format!("  next {}", local_time(w.status.next_check_at)));
    if let Some(e) = &w.status.last_error {
        line.push_str(&format!("  error: {e}"));
    }
    line
}

fn state_word(w: &WatcherView) -> &'static str {
    w.state.as_str()
}

fn print_view(w: &WatcherView) {
    let origin = match w.origin {
        WatcherOrigin::File => "config file",
        WatcherOrigin::Api => "tools",
    };
    outln!("id          {}", w.id);
    outln!("name        {}", w.name);
    outln!("kind        {}", w.kind);
    outln!("state       {}", state_word(w));
    outln!("from        {origin}");
    outln!("spec        {}", redact(&w.spec.to_string()));
    outln!("last check  {}", local_time(w.status.last_check_at));
    outln!("next check  {}", local_time(w.status.next_check_at));
    outln!("last fired  {}", local_time(w.status.last_fired_at));
    if let Some(r) = &w.status.last_result {
        outln!("last result {}", redact(r));
    }
    if let Some(e) = &w.status.last_error {
        outln!(
            "last error  {} ({} failures in a row)",
            redact(e),
            w.status.consecutive_failures
        );
    }
}

fn print_trial(t: &Trial) {
    outln!("{}: {}", t.watcher.name, redact(&t.result));
    if let Some(e) = &t.error {
        outln!("error: {}", redact(e));
    }
    if t.notifications.is_empty() {
        outln!("nothing to send");
    }
    let verb = if t.sent { "sent" } else { "would send" };
    for n in &t.notifications {
        outln!("{verb}: {}", redact(&n.title));
        for line in n.body.lines() {
            outln!("  {}", redact(line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_make_the_spec_of_their_kind() {
        let f = Fields {
            threshold: Some("https://api.example/p".into()),
            pointer: Some("/bitcoin/usd".into()),
            above: Some(50_000.0),
            every: Some("5m".into()),
            ..Default::default()
        };
        let m = f.to_map(|| unreachable!()).unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"kind": "threshold", "url": "https://api.example/p",
                   "pointer": "/bitcoin/usd", "above": 50000.0, "every": "5m"})
        );
        let f = Fields {
            spec: Some("-".into()),
            title: Some("T".into()),
            ..Default::default()
        };
        let m = f
            .to_map(|| {
                Ok(r#"{"kind": "schedule", "schedule": "daily 08:00", "title": "x"}"#.into())
            })
            .unwrap();
        assert_eq!(m["title"], "T");
        assert_eq!(m["kind"], "schedule");
        let two = Fields {
            web: vec!["https://a.example".into()],
            feed: vec!["https://b.example".into()],
            ..Default::default()
        };
        assert!(
            two.to_map(|| unreachable!())
                .unwrap_err()
                .contains("one kind")
        );
    }
}
