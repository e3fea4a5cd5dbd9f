//! `mcp-push deliveries [--failed]` and `mcp-push retry DELIVERY_ID`.

use super::inline::{self, local_time};
use super::outbox::{self, Along};
use super::output::outln;
use super::runs::delivery_line;
use super::{Cli, EXIT_USAGE, fail};
use crate::hub::Report;
use crate::redact::redact;
use crate::store::{DeliveryId, DeliveryState, UnixMillis};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct DeliveriesArgs {
    /// Only deliveries that failed for good (retry them with `mcp-push retry ID`)
    #[arg(long, conflicts_with = "pending")]
    failed: bool,
    /// Only deliveries still waiting in the outbox
    #[arg(long)]
    pending: bool,
    /// How many, newest first
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RetryArgs {
    /// The delivery's id, as `mcp-push deliveries --failed` shows it
    delivery_id: i64,
    /// How long to wait for it before leaving it in the outbox (30s, 2m, 0)
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = inline::parse_wait)]
    wait: Duration,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

pub async fn list(cli: &Cli, args: &DeliveriesArgs) -> ExitCode {
    let store = match super::store_only(cli) {
        Ok(store) => store,
        Err(code) => return code,
    };
    let state = if args.failed {
        Some(DeliveryState::Failed)
    } else if args.pending {
        Some(DeliveryState::Pending)
    } else {
        None
    };
    let rows = match crate::ops::deliveries::recent(&store, state, args.limit).await {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        outln!(
            "{}",
            redact(&serde_json::to_string_pretty(&rows).unwrap_or_default())
        );
        return ExitCode::SUCCESS;
    }
    if rows.is_empty() {
        outln!(
            "{}",
            match state {
                Some(DeliveryState::Failed) => "no failed deliveries",
                Some(_) => "the outbox is empty",
                None => "no deliveries yet",
            }
        );
        return ExitCode::SUCCESS;
    }
    for d in &rows {
        outln!(
            "{}  event {}  {}",
            local_time(Some(d.updated_at)),
            d.event_id,
            redact(&delivery_line(d))
        );
    }
    if state == Some(DeliveryState::Failed) {
        outln!("`mcp-push retry ID` sends one again.");
    }
    ExitCode::SUCCESS
}

pub async fn retry(cli: &Cli, args: &RetryArgs) -> ExitCode {
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let id = DeliveryId(args.delivery_id);
    let delivery = match store.delivery(id) {
        Ok(Some(d)) => d,
        Ok(None) => {
            eprintln!("error: no delivery {id}; `mcp-push deliveries --failed` lists them");
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => return fail(&e.to_string()),
    };
    // Before the retried one is due, so that it is not taken along as well.
    let along = Along::start(&app, store.clone(), outbox::ALONG).await;
    if let Err(e) = crate::ops::deliveries::retry(&store, id, UnixMillis::now()).await {
        along.finish().await.print_along(args.json);
        return fail(&e.to_string());
    }
    let hub = Arc::new(app.hub(store));
    let mut report =
        crate::ops::send::deliver_alone(&hub, delivery.event_id, Instant::now(), args.wait).await;
    // Only the retried delivery is news; the event's others were settled before.
    if let Report::Delivered { outcomes, .. } = &mut report {
        outcomes.retain(|o| o.delivery_id == id);
    }
    let code = inline::print(&report, args.json);
    along.finish().await.print_along(args.json);
    code
}
