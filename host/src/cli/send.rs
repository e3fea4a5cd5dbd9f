use super::inline::{self, parse_wait};
use super::{Cli, fail};
use crate::hub::Submission;
use crate::notification::{Format, Notification, Priority, check_idempotency_key};
use crate::store::Source;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The title (a title listed in SKIP_PUSH_TITLE is not sent)
    title: String,
    /// The message; `-` reads it from standard input
    content: Option<String>,
    /// Read the message from standard input (as CONTENT `-` does)
    #[arg(long, conflicts_with = "content")]
    stdin: bool,
    /// Send only to this channel (repeatable)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    channels: Vec<String>,
    /// How the message is written; channels that cannot render it get plain text
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// How urgent it is: channels map it to their own levels; `urgent` passes quiet hours
    #[arg(long, value_enum, default_value_t = Priority::Normal)]
    priority: Priority,
    /// A tag (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// A link to attach (channels that support it make the message clickable)
    #[arg(long, value_name = "URL")]
    link: Option<String>,
    #[command(flatten)]
    delivery: DeliveryArgs,
}

/// Options shared by `send` and `event`.
#[derive(clap::Args, Debug)]
pub struct DeliveryArgs {
    /// A repeat with the same key prints the first result and sends nothing again
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// How long to wait for retries before leaving them in the outbox (30s, 2m, 0)
    #[arg(long, value_name = "TIME", default_value = "30s", value_parser = parse_wait)]
    pub wait: Duration,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cli: &Cli, args: &SendArgs) -> ExitCode {
    let content = if args.stdin {
        Some("-")
    } else {
        args.content.as_deref()
    };
    let body = match read_content(content) {
        Ok(b) => b,
        Err(e) => return fail(&format!("cannot read the message from standard input: {e}")),
    };
    if args.title.trim().is_empty() && body.trim().is_empty() {
        return fail("nothing to send: the title and the message are both empty");
    }
    let key = match check_idempotency_key(args.delivery.idempotency_key.as_deref()) {
        Ok(k) => k,
        Err(e) => return fail(&format!("--idempotency-key: {}", e.message)),
    };
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let msg = Notification {
        title: args.title.clone(),
        body,
        format: args.format,
        priority: args.priority,
        tags: args.tags.clone(),
        link: args.link.clone(),
        event: None,
    };
    let sub = Submission {
        notification: msg,
        source: Source::Cli,
        only: args.channels.clone(),
        idempotency_key: key,
    };
    match inline::deliver(&app, store.clone(), sub, args.delivery.wait).await {
        Ok(report) => inline::print(&report, args.delivery.json),
        Err(code) => code,
    }
}

/// Standard input only when asked for: read unasked, a `while read` loop's
/// pipe would be swallowed by its first send, and a stdin that stays open
/// (a service's, an agent's) would hang the send.
fn read_content(arg: Option<&str>) -> std::io::Result<String> {
    match arg {
        Some("-") => read_stdin(),
        Some(text) => Ok(text.to_string()),
        None => Ok(String::new()),
    }
}

fn read_stdin() -> std::io::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim_end_matches('\n').to_string())
}
