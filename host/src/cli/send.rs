use super::inline::{self, parse_wait};
use super::outbox::{self, Along};
use super::{Cli, fail};
use crate::hub::Submission;
use crate::notification::{Format, Notification, Priority, check_idempotency_key};
use crate::store::Source;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The title (a title listed in SKIP_PUSH_TITLE is not sent)
    title: String,
    /// The message; `-` or absent reads standard input (when it is not a terminal)
    content: Option<String>,
    /// Send only to this channel (repeatable)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    channels: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
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
    let body = match read_content(args.content.as_deref()) {
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
    let along = Along::start(&app, store.clone(), outbox::ALONG).await;
    let code = match inline::deliver(&app, store.clone(), sub, args.delivery.wait).await {
        Ok(report) => inline::print(&report, args.delivery.json),
        Err(code) => code,
    };
    along.finish().await.print_along(args.delivery.json);
    code
}

fn read_content(arg: Option<&str>) -> std::io::Result<String> {
    match arg {
        Some("-") => read_stdin(),
        Some(text) => Ok(text.to_string()),
        // Absent: a pipe is read, a terminal is not waited on.
        None if std::io::stdin().is_terminal() => Ok(String::new()),
        None => read_stdin(),
    }
}

fn read_stdin() -> std::io::Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s.trim_end_matches('\n').to_string())
}
