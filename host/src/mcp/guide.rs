//! The words the server gives agents: its instructions and the
//! `mcp-push-guidelines` prompt.

pub const INSTRUCTIONS: &str = "\
mcp-push delivers notifications to the people you work for, on the channels they configured \
(Telegram, Slack, e-mail, webhooks, ...). Use `notify_send` for a one-off message. For long or \
unattended work, report its life under one run_id with `notify_event`: `start` when it begins, \
a few `update`s with progress, then `end` (succeeded) or `error` (failed). Every message is \
kept in a durable outbox and retried if a channel is down; pass an `idempotency_key` when you \
might repeat a call. `get_run` and `list_runs` show runs and their deliveries; `list_channels` \
shows where messages go. When the user asks to be told later (\"tell me when...\", \"every \
morning...\", \"remind me...\", \"alert me if the price goes above...\"), create a watcher with \
`watch_create` (kinds schedule, web, feed, threshold) instead of polling yourself: mcp-push then \
checks and notifies on its own, even after you are gone. `watch_run` tests one without sending; \
`watch_list`, `watch_pause`, `watch_resume`, `watch_delete` manage them; `hub_status` shows the \
hub's health. Keep messages short and never include secrets.";

pub const PROMPT_NAME: &str = "mcp-push-guidelines";

pub const PROMPT_DESCRIPTION: &str =
    "When and how to notify the user about your work with mcp-push";

pub const GUIDELINES: &str = "\
You can notify the user through mcp-push. Its messages reach their phone or chat, so use it \
with care.

When to notify
- Work that runs long (minutes or more) or unattended: builds, deployments, training, \
migrations, large refactors, test suites.
- When you need the user: you are blocked, need a decision, or something failed that you \
cannot fix.
- Not for every small step, and not for work the user is watching in real time.

How: one run, four kinds of event (`notify_event`)
- Pick a run_id that names the work and is unique, e.g. \"deploy-api-2026-11-21\", and use \
it for every event of that run.
- `start` when the work begins: what you are doing, in one line.
- `update` at meaningful milestones, with data.progress (0 to 1) and data.step. A few per run \
is plenty; channels may merge frequent updates.
- `end` when it succeeded: the outcome, and data.artifact_url if there is something to look at.
- `error` when it failed: what failed and data.error_code; say what the user should do.
- Always close a run you started with `end` or `error`.

Later or repeatedly: watchers (`watch_create`)
- When the user wants to hear about something later or again and again, do not wait or poll: \
create a watcher and tell the user it exists. mcp-push checks by itself and notifies them.
- \"remind me every weekday at 9\", \"every morning at 8 ...\": kind `schedule` \
(`schedule`: `weekdays 09:00`, `daily 08:00`, `every 30m` or cron; `timezone`).
- \"tell me when this page changes\" or \"... mentions AI\": kind `web` (`urls`, `every`, \
optional `selector`, `keywords`).
- \"a digest of these news sites every morning\", \"new posts on this blog\": kind `feed` \
(`urls`, `every`, optional `keywords`, `digest`: `daily 08:00`).
- \"alert me when bitcoin goes above 50,000\": kind `threshold` (`url`, `pointer` such as \
`/bitcoin/usd` or `regex`, `above` or `below`, `every`).
- Check a new watcher with `watch_run` (it sends nothing unless `send` is true). Use the \
user's time zone for schedules. Pause, resume or delete watchers when the user asks; \
`watch_list` shows them and `hub_status` whether any is failing.

For a single message use `notify_send` with a short title and content. Use priority `high` or \
`urgent` only when the user must act soon.

Style
- Short: a title of a few words, a message of one to three sentences.
- Concrete: name the thing, the result and the next step.
- Never include secrets, tokens, passwords or private data in a message.

Check the result: `status` is success, partial, failed, queued (still retrying or held by the \
user's quiet hours: the server delivers it later) or skipped, with each channel's outcome. Do not \
resend a queued message: it is already in the outbox. If a channel failed for good, mention it in \
your reply instead of retrying in a loop; when you must repeat a call, reuse its \
`idempotency_key` so nothing is sent twice. `get_run` shows a run's timeline and deliveries; \
`list_channels` shows what is configured.";
