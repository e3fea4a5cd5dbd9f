//! `mcp-push prune [--dry-run]`: retention for people who never run `serve`
//! or `mcp` (which apply it by themselves): what is done and older than the
//! `[store]` window is forgotten.

use super::output::outln;
use super::{Cli, fail};
use crate::app::App;
use crate::hub::{Clock, blocking};
use crate::store::{Retention, UnixMillis};
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Count what would be forgotten; change nothing
    #[arg(long)]
    dry_run: bool,
    /// Keep this many days [default: the config file's store.keep_days, else 30; 0 keeps all]
    #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=36_500))]
    keep_days: Option<u32>,
    /// Keep only this many of the newest events [default: store.keep_events, else no limit]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    keep_events: Option<u64>,
    /// Then give the free space back to the file system (rewrites the file;
    /// stop `serve` and `mcp` first on a large store)
    #[arg(long, conflicts_with = "dry_run")]
    vacuum: bool,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &PruneArgs) -> ExitCode {
    let options = cli.app_options();
    let mut keep = match App::retention_only(&options) {
        Ok(k) => k,
        Err(e) => return fail(&e),
    };
    if let Some(d) = args.keep_days {
        keep.keep_days = (d > 0).then_some(d);
    }
    if args.keep_events.is_some() {
        keep.keep_events = args.keep_events;
    }
    let store = match App::store_only(&options) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let pruned = if args.dry_run {
        let s = store.clone();
        blocking(move || s.prune(&keep, UnixMillis::now(), usize::MAX, true)).await
    } else {
        crate::hub::retention::apply(&store, keep, &Clock::system()).await
    };
    let pruned = match pruned {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    if args.vacuum {
        let s = store.clone();
        if let Err(e) = blocking(move || s.compact()).await {
            return fail(&format!("cannot compact the store: {e}"));
        }
    }
    let size = match blocking(move || store.size()).await {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        outln!(
            "{}",
            serde_json::json!({
                "dry_run": args.dry_run,
                "keep_days": keep.keep_days,
                "keep_events": keep.keep_events,
                "pruned": pruned,
                "store": size,
            })
        );
        return ExitCode::SUCCESS;
    }
    let verb = if args.dry_run {
        "would forget"
    } else {
        "forgot"
    };
    outln!(
        "{verb} {} events, {} deliveries and {} runs ({}; never pending deliveries or running runs)",
        pruned.events,
        pruned.deliveries,
        pruned.runs,
        window(&keep)
    );
    outln!(
        "store: {} events, {:.1} MiB{}",
        size.events,
        size.bytes as f64 / 1_048_576.0,
        size.oldest_event_at
            .map(|t| format!(", oldest {}", super::inline::local_time(Some(t))))
            .unwrap_or_default()
    );
    ExitCode::SUCCESS
}

fn window(keep: &Retention) -> String {
    match (keep.keep_days, keep.keep_events) {
        (None, None) => "no limit set: everything is kept".into(),
        (Some(d), None) => format!("older than {d} days"),
        (None, Some(n)) => format!("beyond the newest {n}"),
        (Some(d), Some(n)) => format!("older than {d} days or beyond the newest {n}"),
    }
}
