//! `mcp-push ask` and `mcp-push answer`: a question to the user from a
//! shell script, and an answer from a terminal. `ask` prints the answer on
//! stdout (the default, when nobody answered in time) and exits 0 when
//! answered, 4 when timed out, 5 when cancelled, so a script can gate a
//! step on a human.

use super::{Cli, EXIT_FAILED, fail};
use crate::ops::OpError;
use crate::ops::asks::{self, AskInput, AskView, Reply};
use crate::store::{Answering, AskState, ClaimScope, Source};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) const EXIT_TIMED_OUT: u8 = 4;
pub(crate) const EXIT_CANCELLED: u8 = 5;

#[derive(clap::Args, Debug)]
pub struct AskArgs {
    /// The question, as the person will read it
    question: String,
    /// An answer to offer (repeatable); none for a free-text answer
    #[arg(long = "choice", value_name = "TEXT")]
    choices: Vec<String>,
    /// What the question answers when nobody does in time
    #[arg(long, value_name = "TEXT")]
    default: Option<String>,
    /// How long to wait for an answer (90s, 10m, 2h; at most 7 days)
    #[arg(long, value_name = "TIME", default_value = "10m", value_parser = parse_timeout)]
    timeout: Duration,
    /// Ask on this channel only (repeatable; default all)
    #[arg(long = "channel", short = 'c', value_name = "NAME")]
    channels: Vec<String>,
    /// The run the question belongs to
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Print the outcome as JSON
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct AnswerArgs {
    /// The question's id (`mcp-push ask` prints it on stderr)
    ask_id: String,
    /// The answer: one of the choices (or its number), or free text
    answer: String,
    /// Who answers (default: `cli`)
    #[arg(long, value_name = "NAME", default_value = "cli")]
    by: String,
}

/// `90s`, `10m`, `2h`, or seconds.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a time; write e.g. 90s, 10m or 2h");
    let t = s.trim();
    let (n, unit) = match t.char_indices().last() {
        Some((i, 's')) => (&t[..i], 1),
        Some((i, 'm')) => (&t[..i], 60),
        Some((i, 'h')) => (&t[..i], 3_600),
        Some((i, 'd')) => (&t[..i], 86_400),
        _ => (t, 1),
    };
    let secs = n
        .trim()
        .parse::<u64>()
        .map_err(|_| bad())?
        .saturating_mul(unit);
    if secs == 0 || secs > asks::MAX_TIMEOUT.as_secs() {
        return Err(format!(
            "{s:?}: the timeout must be from 1s to {}d",
            asks::MAX_TIMEOUT.as_secs() / 86_400
        ));
    }
    Ok(Duration::from_secs(secs))
}

pub async fn ask(cli: &Cli, args: &AskArgs) -> ExitCode {
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let hub = std::sync::Arc::new(app.hub(store));
    let input = AskInput {
        question: args.question.clone(),
        choices: args.choices.clone(),
        default: args.default.clone(),
        timeout_secs: Some(args.timeout.as_secs() as f64),
        channels: args.channels.clone(),
        run_id: args.run_id.clone(),
        wait: Some(true),
    };
    let asking = match asks::check(input, &hub) {
        Ok(a) => a,
        Err(e) => return refused(&e, &app),
    };
    let (ask, event) = match asks::ask(&hub, &asking, Source::Cli).await {
        Ok(asked) => asked,
        Err(e) => return refused(&e, &app),
    };
    let how = match hub.replies().base() {
        Some(_) => "reply through the link in the message, or".to_string(),
        None => "no reply link (set MCP_PUSH_REPLY_URL to a `serve` on this store); answer with"
            .to_string(),
    };
    eprintln!(
        "asked question {} on {}; waiting up to {}s — {how} `mcp-push answer {} ANSWER`",
        ask.id,
        ask.question
            .channels
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        args.timeout.as_secs(),
        ask.id
    );
    // This process sends its own question (and its retries) while it waits;
    // what is left when it stops stays in the outbox for the next worker.
    let worker = event.map(|e| hub.spawn_worker(ClaimScope::Event(e)));
    // Answers given in the chat; this process tells the channels asked
    // that the question is decided (its worker sends the question only).
    let replies = crate::ask::spawn_poller(hub.clone(), true);
    let decided = asks::wait(&hub, ask.id, |_| {}).await;
    replies.finish().await;
    if let Some(w) = worker {
        w.finish().await;
    }
    let ask = match decided {
        Ok(a) => a,
        Err(e) => return refused(&e, &app),
    };
    let view = AskView::of(&ask);
    if args.json {
        println!(
            "{}",
            crate::redact::redact(&serde_json::to_string(&view).unwrap_or_default())
        );
    } else {
        if let Some(answer) = &view.answer {
            println!("{answer}");
        }
        eprintln!("{}", view.summary);
    }
    match ask.state {
        AskState::Answered => ExitCode::SUCCESS,
        AskState::TimedOut => ExitCode::from(EXIT_TIMED_OUT),
        AskState::Cancelled => ExitCode::from(EXIT_CANCELLED),
        AskState::Open => ExitCode::from(EXIT_FAILED),
    }
}

pub async fn answer(cli: &Cli, args: &AnswerArgs) -> ExitCode {
    let (app, store) = match super::load_with_store(cli).await {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let hub = std::sync::Arc::new(app.hub(store));
    let id = match asks::parse_id(&args.ask_id) {
        Ok(id) => id,
        Err(e) => return refused(&e, &app),
    };
    let reply = Reply {
        text: args.answer.clone(),
        by: args.by.clone(),
        channel: None,
    };
    let (answering, event) = match asks::answer(&hub, id, reply).await {
        Ok(a) => a,
        Err(e) => return refused(&e, &app),
    };
    // The channels asked hear from here that the question is decided.
    if let (Answering::Accepted(_), Some(e)) = (&answering, event) {
        let now = std::time::Instant::now();
        crate::ops::send::deliver_alone(&hub, e, now, crate::ops::send::WAIT).await;
    }
    match answering {
        Answering::Accepted(a) => {
            eprintln!("{}", AskView::of(&a).summary);
            ExitCode::SUCCESS
        }
        Answering::Late(a) => {
            eprintln!(
                "too late: question {} was already {} ({}); your answer is recorded",
                a.id,
                a.state,
                AskView::of(&a).summary
            );
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn refused(e: &OpError, app: &crate::app::App) -> ExitCode {
    fail(&crate::ops::send::refusal(e, &app.config_file_hint()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_as_people_write_them() {
        assert_eq!(parse_timeout("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_timeout("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_timeout("2h").unwrap(), Duration::from_secs(7_200));
        assert_eq!(parse_timeout("45").unwrap(), Duration::from_secs(45));
        for bad in ["0", "m", "-1m", "8d", "ten"] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }
}
