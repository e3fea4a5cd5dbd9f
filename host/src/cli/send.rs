use super::inline::{self, parse_wait};
use super::outbox::{self, Along};
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
    title: Option<String>,
    /// The message; `-` reads it from standard input
    content: Option<String>,
    /// One-line URLs (json://host/path, tgram://..., as apprise takes them) to send to instead
    /// of the configured channels. With -t or -b, every word after the options is a URL
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// The title, as apprise's `-t` (then TITLE and CONTENT are not given)
    #[arg(short = 't', long = "title", value_name = "TITLE")]
    title_flag: Option<String>,
    /// The message, as apprise's `-b`; `-` reads standard input
    #[arg(short = 'b', long = "body", value_name = "BODY")]
    body_flag: Option<String>,
    /// Read the message from standard input (as CONTENT `-` does)
    #[arg(long)]
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
    let words = match Words::of(args) {
        Ok(w) => w,
        Err(e) => return fail(&e),
    };
    let body = match read_content(words.content.as_deref()) {
        Ok(b) => b,
        Err(e) => return fail(&format!("cannot read the message from standard input: {e}")),
    };
    let title = words.title;
    if title.trim().is_empty() && body.trim().is_empty() {
        return fail(
            "nothing to send: the title and the message are both empty; \
             write `mcp-push send TITLE [CONTENT]` or `mcp-push send -t TITLE -b BODY [URL]...`",
        );
    }
    let key = match check_idempotency_key(args.delivery.idempotency_key.as_deref()) {
        Ok(k) => k,
        Err(e) => return fail(&format!("--idempotency-key: {}", e.message)),
    };
    let app = match super::load(cli).await {
        Ok(app) => app,
        Err(code) => return code,
    };
    if !words.urls.is_empty() && !args.channels.is_empty() {
        return fail(
            "--channel picks configured channels and URLs replace them: give one or the other",
        );
    }
    let targets = match super::targets::channels(&app, &words.urls).await {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    super::targets::warm_up(&app, targets.as_deref(), &args.channels);
    let store = match app.open_store_brief() {
        Ok(store) => store,
        Err(e) => return fail(&e),
    };
    let msg = Notification {
        title,
        body,
        format: args.format,
        priority: args.priority,
        tags: args.tags.clone(),
        link: args.link.clone(),
        event: None,
        question: None,
    };
    let sub = Submission {
        notification: msg,
        source: Source::Cli,
        watcher: None,
        only: args.channels.clone(),
        idempotency_key: key,
        hold: None,
    };
    let along = Along::start(&app, store.clone(), outbox::ALONG).await;
    let code = match inline::deliver(&app, store.clone(), sub, targets, args.delivery.wait).await {
        Ok(report) => inline::print(&report, args.delivery.json),
        Err(code) => code,
    };
    along.finish().await.print_along(args.delivery.json);
    code
}

/// The title, the message and the URLs, from the positional words and the
/// apprise-style flags.
#[derive(Debug, PartialEq)]
struct Words {
    title: String,
    /// As given: `-` means standard input.
    content: Option<String>,
    urls: Vec<String>,
}

impl Words {
    fn of(args: &SendArgs) -> Result<Words, String> {
        let positional = args
            .title
            .iter()
            .chain(&args.content)
            .chain(&args.urls)
            .cloned();
        let mut words = if args.title_flag.is_some() || args.body_flag.is_some() {
            // apprise's form: the flags say what, every word says where.
            Words {
                title: args.title_flag.clone().unwrap_or_default(),
                content: args.body_flag.clone(),
                urls: positional.collect(),
            }
        } else {
            Words {
                title: args.title.clone().unwrap_or_default(),
                content: args.content.clone(),
                urls: args.urls.clone(),
            }
        };
        if let Some(word) = words.urls.iter().find(|u| !u.contains("://")) {
            return Err(format!(
                "{word:?} is not a one-line URL such as json://host/path: after TITLE and \
                 CONTENT (or with -t/-b, after the options) each word names where to send; \
                 quote a message that has spaces"
            ));
        }
        if args.stdin {
            if words.content.is_some() {
                return Err("--stdin reads the message: give no CONTENT or -b as well".into());
            }
            words.content = Some("-".into());
        }
        Ok(words)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Send {
        #[command(flatten)]
        args: SendArgs,
    }

    fn words(argv: &[&str]) -> Result<Words, String> {
        let send = Send::try_parse_from(std::iter::once("send").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?;
        Words::of(&send.args)
    }

    fn w(title: &str, content: Option<&str>, urls: &[&str]) -> Words {
        Words {
            title: title.into(),
            content: content.map(String::from),
            urls: urls.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn positional_and_apprise_forms() {
        assert_eq!(words(&["T"]).unwrap(), w("T", None, &[]));
        assert_eq!(words(&["T", "-"]).unwrap(), w("T", Some("-"), &[]));
        assert_eq!(
            words(&["T", "B", "json://h/p"]).unwrap(),
            w("T", Some("B"), &["json://h/p"])
        );
        assert_eq!(
            words(&["-t", "T", "-b", "B", "json://a", "form://b"]).unwrap(),
            w("T", Some("B"), &["json://a", "form://b"])
        );
        assert_eq!(
            words(&["-b", "B", "json://a"]).unwrap(),
            w("", Some("B"), &["json://a"])
        );
        assert_eq!(words(&["--stdin", "T"]).unwrap(), w("T", Some("-"), &[]));
        assert!(
            words(&["--stdin", "T", "B"])
                .unwrap_err()
                .contains("--stdin")
        );
        assert!(
            words(&["T", "B", "extra words"])
                .unwrap_err()
                .contains("not a one-line URL")
        );
    }
}
