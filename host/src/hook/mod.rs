//! Agent hooks: what an agent tells a hook (Claude Code's hook JSON, Codex's
//! `notify` argument, Gemini CLI's hook JSON) becomes notifications, without
//! the model having to ask. This module reads the payloads and decides; the
//! CLI (`mcp-push hook`) does the I/O and hands the result to the hub.
//!
//! A turn is a run: `start` on the prompt, `end` when the agent stops, so a
//! channel that can edit shows one live message per turn. Noise control is a
//! pure rule ([`plan`]): a turn shorter than `--min-duration` and anything
//! inside a session's `--cooldown` is still recorded (the run keeps its true
//! duration) but delivered nowhere.

mod payload;
mod session;
mod transcript;

pub use payload::{Agent, AgentEvent, PayloadError, parse};
pub use session::{Session, SessionStore};
pub use transcript::last_assistant_text;

use crate::notification::{EventKind, Notification, Priority, RunEvent, RunId, human_duration};
use crate::store::UnixMillis;
use std::time::Duration;

/// How much of a prompt and of the last reply a notification carries: enough
/// to recognise the turn on a phone's lock screen.
const PROMPT_PREVIEW: usize = 200;
const REPLY_PREVIEW: usize = 600;

/// The user's noise settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet {
    /// A turn that ended sooner is not delivered (measured from the prompt).
    pub min_duration: Duration,
    /// After a delivered notification, the session's next ones within this
    /// time are not delivered (a turn's end whose start was delivered still
    /// is: it completes the live message).
    pub cooldown: Duration,
}

/// One notification the hook submits, and why it goes nowhere if it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub notification: Notification,
    /// Recorded, delivered to no channel, for this reason.
    pub hold: Option<String>,
}

/// What an agent event makes of a session: the notifications to submit and
/// the session as it is afterwards. `now` is passed in; `project` names the
/// working directory.
pub fn plan(
    agent: Agent,
    event: &AgentEvent,
    mut session: Session,
    quiet: Quiet,
    now: UnixMillis,
) -> (Vec<Outgoing>, Session) {
    let project = event
        .cwd()
        .map(String::from)
        .or_else(|| session.cwd.clone())
        .map(|cwd| project_name(&cwd))
        .unwrap_or_else(|| "?".to_string());
    if let Some(cwd) = event.cwd() {
        session.cwd = Some(cwd.to_string());
    }
    let cooling = |s: &Session| {
        s.last_sent_at
            .is_some_and(|t| now.0 - t < quiet.cooldown.as_millis() as i64)
    };
    let cooldown_reason = || {
        format!(
            "another notification of this session went out less than --cooldown {} ago",
            human_duration(quiet.cooldown.as_millis() as i64)
        )
    };
    let mut out = Vec::new();
    match event {
        AgentEvent::TurnStarted {
            session_id, prompt, ..
        } => {
            session.turn += 1;
            let run_id = run_id(agent, &project, session_id, session.turn);
            let hold = if !quiet.min_duration.is_zero() {
                Some(format!(
                    "a turn is announced when it ends, if it took at least --min-duration {}",
                    human_duration(quiet.min_duration.as_millis() as i64)
                ))
            } else if cooling(&session) {
                Some(cooldown_reason())
            } else {
                None
            };
            let body = match prompt.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(p) => format!(
                    "Working on: {}",
                    crate::notification::preview(p, PROMPT_PREVIEW)
                ),
                None => "Working…".to_string(),
            };
            out.push(Outgoing {
                notification: run_notification(
                    &run_id,
                    EventKind::Start,
                    format!("{} is working · {project}", agent.display()),
                    body,
                    Priority::Normal,
                    agent,
                    now,
                ),
                hold: hold.clone(),
            });
            session.start_sent = hold.is_none();
            session.turn_started_at = Some(now.0);
            session.run_id = Some(run_id);
            session.end_sent = false;
            if session.start_sent {
                session.last_sent_at = Some(now.0);
            }
        }
        AgentEvent::TurnEnded {
            reply, continued, ..
        } => {
            // A stop forced to go on by another stop hook ends the same turn
            // again: the first end was told already.
            if *continued && session.run_id.is_none() {
                return (out, session);
            }
            let run_id = session.run_id.take();
            let took = session.turn_started_at.take().map(|t| now.0 - t);
            let hold = if session.start_sent {
                None
            } else if took.is_some_and(|ms| ms < quiet.min_duration.as_millis() as i64) {
                Some(format!(
                    "the turn took {}, less than --min-duration {}",
                    human_duration(took.unwrap_or(0)),
                    human_duration(quiet.min_duration.as_millis() as i64)
                ))
            } else if cooling(&session) {
                Some(cooldown_reason())
            } else {
                None
            };
            let body = match reply.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                Some(r) => crate::notification::preview(r, REPLY_PREVIEW),
                None => "The turn ended.".to_string(),
            };
            let title = format!("{} finished · {project}", agent.display());
            // The store adds the run's duration to its end; a turn whose
            // start nobody saw (Codex says nothing at the start) has none,
            // and goes out as a plain message rather than a run of 0 s.
            let notification = match run_id {
                Some(run_id) => run_notification(
                    &run_id,
                    EventKind::End,
                    title,
                    body,
                    Priority::Normal,
                    agent,
                    now,
                ),
                None => {
                    let mut n = Notification::new(title, body);
                    n.tags = vec![agent.slug().to_string(), "end".to_string()];
                    n
                }
            };
            out.push(Outgoing {
                notification,
                hold: hold.clone(),
            });
            session.start_sent = false;
            session.end_sent = hold.is_none();
            if hold.is_none() {
                session.last_sent_at = Some(now.0);
            }
        }
        AgentEvent::SubagentEnded { .. } => {
            // News for a live message only: a run whose start went out.
            if let (Some(run_id), true) = (&session.run_id, session.start_sent) {
                out.push(Outgoing {
                    notification: run_notification(
                        run_id,
                        EventKind::Update,
                        format!("{} is working · {project}", agent.display()),
                        "A subagent finished".to_string(),
                        Priority::Low,
                        agent,
                        now,
                    ),
                    hold: None,
                });
            }
        }
        AgentEvent::NeedsYou { message, idle, .. } => {
            // Waiting after a turn whose end was just told is not news.
            let hold = if *idle && session.end_sent {
                Some("the agent waits after a turn whose end was already told".to_string())
            } else if cooling(&session) {
                Some(cooldown_reason())
            } else {
                None
            };
            let body = match message.trim() {
                "" => format!("{} is waiting for you", agent.display()),
                m => m.to_string(),
            };
            let mut n =
                Notification::new(format!("{} needs you · {project}", agent.display()), body);
            n.priority = Priority::High;
            n.tags = vec![agent.slug().to_string(), "needs-you".to_string()];
            if hold.is_none() {
                session.last_sent_at = Some(now.0);
            }
            out.push(Outgoing {
                notification: n,
                hold,
            });
        }
        AgentEvent::Ignored { .. } => {}
    }
    (out, session)
}

/// `claude-code/myproject/3f2a9c1e/4`: readable in `mcp-push runs`, one per turn.
fn run_id(agent: Agent, project: &str, session_id: &str, turn: u32) -> String {
    let short: String = session_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    let project: String = project
        .chars()
        .filter(|c| !c.is_control() && *c != '/')
        .take(60)
        .collect();
    format!("{}/{project}/{short}/{turn}", agent.slug())
}

fn run_notification(
    run_id: &str,
    kind: EventKind,
    title: String,
    body: String,
    priority: Priority,
    agent: Agent,
    at: UnixMillis,
) -> Notification {
    let mut n = Notification::new(title, body);
    n.priority = priority;
    n.tags = vec![agent.slug().to_string(), kind.as_str().to_string()];
    n.event = Some(RunEvent {
        run_id: RunId(run_id.to_string()),
        kind,
        progress: (kind == EventKind::End).then_some(1.0),
        step: None,
        artifact_url: None,
        data: None,
        // When the agent said so, not when this process got to the store:
        // the run's duration is the turn's.
        timestamp: chrono::DateTime::from_timestamp_millis(at.0).map(|t| t.fixed_offset()),
    });
    n
}

/// The last part of the working directory: what people call the project.
fn project_name(cwd: &str) -> String {
    let name = cwd
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    if name.is_empty() {
        cwd.to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn started(prompt: &str) -> AgentEvent {
        AgentEvent::TurnStarted {
            session_id: "3f2a9c1e-aaaa".into(),
            cwd: Some("/home/me/shop".into()),
            prompt: Some(prompt.into()),
        }
    }

    fn ended(reply: &str) -> AgentEvent {
        AgentEvent::TurnEnded {
            session_id: "3f2a9c1e-aaaa".into(),
            cwd: None,
            reply: Some(reply.into()),
            continued: false,
        }
    }

    fn needs(idle: bool) -> AgentEvent {
        AgentEvent::NeedsYou {
            session_id: "3f2a9c1e-aaaa".into(),
            cwd: None,
            message: "Claude needs your permission to use Bash".into(),
            idle,
        }
    }

    fn quiet(min: i64, cooldown: i64) -> Quiet {
        Quiet {
            min_duration: Duration::from_millis(min as u64),
            cooldown: Duration::from_millis(cooldown as u64),
        }
    }

    /// Feed events at the given times; what each one sends (None = held).
    fn feed(q: Quiet, events: &[(i64, AgentEvent)]) -> Vec<Vec<(String, Option<String>)>> {
        let mut session = Session::default();
        let mut all = Vec::new();
        for (at, e) in events {
            let (out, s) = plan(Agent::ClaudeCode, e, session, q, UnixMillis(*at));
            session = s;
            all.push(
                out.into_iter()
                    .map(|o| {
                        (
                            o.notification.title.clone() + "|" + &o.notification.body,
                            o.hold,
                        )
                    })
                    .collect(),
            );
        }
        all
    }

    #[test]
    fn a_turn_is_a_run_from_prompt_to_stop() {
        let mut session = Session::default();
        let (out, s) = plan(
            Agent::ClaudeCode,
            &started("fix the login bug"),
            session,
            Quiet::default(),
            UnixMillis(0),
        );
        session = s;
        let start = &out[0].notification;
        assert_eq!(start.title, "Claude Code is working · shop");
        assert_eq!(start.body, "Working on: fix the login bug");
        let run = start.event.clone().unwrap();
        assert_eq!(
            (run.run_id.0.as_str(), run.kind),
            ("claude-code/shop/3f2a9c1e/1", EventKind::Start)
        );
        let (out, _) = plan(
            Agent::ClaudeCode,
            &ended("Fixed: the cookie expired."),
            session,
            Quiet::default(),
            UnixMillis(3 * MIN + 12_000),
        );
        let end = &out[0].notification;
        assert_eq!(end.title, "Claude Code finished · shop");
        assert_eq!(end.body, "Fixed: the cookie expired.");
        let run = end.event.as_ref().unwrap();
        assert_eq!(run.run_id.0, "claude-code/shop/3f2a9c1e/1");
        assert_eq!(
            run.timestamp.map(|t| t.timestamp_millis()),
            Some(3 * MIN + 12_000),
            "the store measures the run with the hook's times"
        );
        assert_eq!(out[0].hold, None);
    }

    #[test]
    fn min_duration_holds_short_turns_and_announces_long_ones_at_the_end() {
        let sent = feed(
            quiet(2 * MIN, 0),
            &[
                (0, started("a")),
                (30_000, ended("quick")),
                (MIN, started("b")),
                (MIN + 5 * MIN, ended("long")),
            ],
        );
        assert!(
            sent[0][0]
                .1
                .as_deref()
                .unwrap()
                .contains("--min-duration 2m 00s")
        );
        assert!(sent[1][0].1.as_deref().unwrap().contains("took 30.0s"));
        assert!(sent[2][0].1.is_some());
        assert_eq!(
            sent[3][0],
            ("Claude Code finished · shop|long".into(), None)
        );
    }

    #[test]
    fn cooldown_holds_what_follows_a_sent_notification_but_completes_a_live_one() {
        let sent = feed(
            quiet(0, 5 * MIN),
            &[
                (0, started("a")),
                (10_000, needs(false)),
                (20_000, ended("done")),
                (MIN, started("b")),
                (6 * MIN, needs(false)),
            ],
        );
        assert_eq!(sent[0][0].1, None);
        assert!(
            sent[1][0]
                .1
                .as_deref()
                .unwrap()
                .contains("--cooldown 5m 00s")
        );
        assert_eq!(sent[2][0].1, None, "the end of a delivered start goes out");
        assert!(sent[3][0].1.is_some(), "{:?}", sent[3]);
        assert_eq!(sent[4][0].1, None);
    }

    #[test]
    fn waiting_right_after_a_told_end_is_held_but_a_permission_prompt_is_not() {
        let sent = feed(
            Quiet::default(),
            &[
                (0, started("a")),
                (1_000, ended("done")),
                (61_000, needs(true)),
                (62_000, needs(false)),
            ],
        );
        assert!(sent[2][0].1.is_some());
        assert_eq!(sent[3][0].1, None);
        assert!(
            sent[3][0]
                .0
                .starts_with("Claude Code needs you · shop|Claude needs your")
        );
    }

    #[test]
    fn a_stop_without_a_prompt_is_a_plain_message_and_a_forced_continuation_is_not_told_twice() {
        let continued = AgentEvent::TurnEnded {
            session_id: "s".into(),
            cwd: Some("/w/api".into()),
            reply: None,
            continued: true,
        };
        let sent = feed(quiet(MIN, 0), &[(0, ended("x")), (10, continued)]);
        assert_eq!(sent[0][0], ("Claude Code finished · ?|x".into(), None));
        assert!(sent[1].is_empty());
        let (out, _) = plan(
            Agent::Codex,
            &ended("x"),
            Session::default(),
            Quiet::default(),
            UnixMillis(0),
        );
        assert_eq!(out[0].notification.event, None, "no run of 0 s");
    }

    #[test]
    fn a_subagent_updates_only_a_live_run() {
        let sub = AgentEvent::SubagentEnded {
            session_id: "s".into(),
            cwd: None,
        };
        assert!(feed(quiet(MIN, 0), &[(0, started("a")), (1, sub.clone())])[1].is_empty());
        assert_eq!(
            feed(Quiet::default(), &[(0, started("a")), (1, sub)])[1].len(),
            1
        );
    }

    #[test]
    fn project_is_the_last_part_of_the_directory() {
        assert_eq!(project_name("/home/me/shop/"), "shop");
        assert_eq!(project_name("C:\\src\\api"), "api");
        assert_eq!(project_name("/"), "/");
    }
}
