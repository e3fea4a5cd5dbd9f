use super::{Cli, EXIT_FAILED, EXIT_USAGE, fail};
use crate::app::App;
use crate::hub::{HubError, Overall, Report};
use crate::notification::{Format, Notification, Priority};
use crate::redact::redact;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;

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
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &SendArgs) -> ExitCode {
    let body = match read_content(args.content.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(&format!("cannot read the message from standard input: {e}")),
    };
    if args.title.trim().is_empty() && body.trim().is_empty() {
        return fail("nothing to send: the title and the message are both empty");
    }
    let app = match App::load(&cli.app_options()).await {
        Ok(app) => app,
        Err(e) => return fail(&e),
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
    let report = match app.hub().send(&msg, &args.channels).await {
        Ok(r) => r,
        Err(HubError::NoChannels) => {
            let file = app.config_file_hint();
            eprintln!(
                "error: no channel is configured.\n\
                 Set a channel's environment variables (for example WEBHOOK_URL=https://example.com/hook),\n\
                 or add a [channels.NAME] table to {file}.\n\
                 `mcp-push channels` lists every plugin and the settings it reads."
            );
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => return fail(&e.to_string()),
    };
    if args.json {
        println!(
            "{}",
            redact(&serde_json::to_string_pretty(&report).unwrap_or_default())
        );
    }
    let overall = report.overall();
    match report {
        Report::Skipped { reason } => {
            if !args.json {
                println!("skipped: {reason}");
            }
            ExitCode::SUCCESS
        }
        Report::Sent { outcomes } => {
            let width = outcomes
                .iter()
                .map(|o| o.channel.as_str().len())
                .max()
                .unwrap_or(0);
            for o in &outcomes {
                let line = match &o.result {
                    Ok(_) => format!("{:width$}  ok      {} ms", o.channel, o.elapsed.as_millis()),
                    Err(e) => format!("{:width$}  failed  {e}", o.channel),
                };
                if !args.json {
                    println!("{}", redact(&line));
                }
            }
            if overall == Overall::Success {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_FAILED)
            }
        }
    }
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
