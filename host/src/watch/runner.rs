//! The watchers' task in a long-running process (`serve`, `mcp`): lease the
//! due checks, run them, send what they found as ordinary events (source
//! `watcher`) through the hub, and record where each watcher stands.
//!
//! Each check runs on a task of its own: one that fails, hangs until its
//! timeout or panics is recorded on its watcher (or, for a panic, retried
//! when its lease runs out) and never holds up the others or the hub.

use super::check::{self, Checked, Memory};
use super::fetch::{Fetch, Fetcher};
use super::model::{Plan, WatchSettings, WatcherSpec};
use crate::hub::{Hub, Submission, Submitted, blocking};
use crate::notification::{InputError, Notification, Priority};
use crate::store::{
    CheckDone, CheckStatus, EventId, HubId, Source, StoreError, UnixMillis, Watcher, WatcherClaim,
};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Checks leased in one claim; the loop claims again until none are due.
const BATCH: usize = 32;
/// Checks running at once: enough to hide fetch latency, few enough that
/// 1,000 due at the same minute do not open 1,000 connections.
const PARALLEL: usize = 16;
/// The longest the loop sleeps without looking (a watcher added by
/// another process on the same store is seen within this).
const IDLE: Duration = Duration::from_secs(30);

/// What one check did, for the caller who asked for it by hand.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckReport {
    pub result: String,
    pub notifications: Vec<Notification>,
    /// The events written (none for a dry run).
    pub events: Vec<EventId>,
    pub error: Option<String>,
    /// False when the outcome was not recorded: the lease ran out and
    /// another hub took the check, or the watcher was edited meanwhile.
    pub recorded: bool,
}

/// The "failing" and "recovered" notices, at most one each per bout of failures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Alert {
    Failing,
    Recovered,
}

/// Rule: where a watcher stands after a check. `error` is `None` for a
/// check that worked. After `fail_after` failures in a row the watcher
/// says so once, and once more when a check works again.
pub fn account(
    prev: &CheckStatus,
    error: Option<&str>,
    fail_after: u32,
) -> (CheckStatus, Option<Alert>) {
    let mut s = prev.clone();
    match error {
        None => {
            s.last_error = None;
            s.consecutive_failures = 0;
            let alert = prev.failing_reported.then_some(Alert::Recovered);
            s.failing_reported = false;
            (s, alert)
        }
        Some(e) => {
            s.last_error = Some(e.to_string());
            s.consecutive_failures = prev.consecutive_failures.saturating_add(1);
            let alert = (!prev.failing_reported && s.consecutive_failures >= fail_after)
                .then_some(Alert::Failing);
            s.failing_reported |= alert.is_some();
            (s, alert)
        }
    }
}

/// Rule: how long after its `failures`-th failure in a row a watcher is
/// checked again: the minimum interval, doubling, but never longer than
/// its own interval (a source that is down is not checked more often than
/// one that is up, and one that comes back is noticed within an interval).
pub fn backoff(failures: u32, interval: Duration, min: Duration) -> Duration {
    let doubled = min.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    doubled.min(interval.max(min))
}

pub struct Runner {
    hub: Arc<Hub>,
    fetch: Arc<dyn Fetch>,
    settings: WatchSettings,
    owner: HubId,
    wake: tokio::sync::Notify,
}

impl Runner {
    /// With the watchers' own HTTP client.
    pub fn new(hub: Arc<Hub>, settings: WatchSettings) -> Result<Runner, String> {
        let fetch = Arc::new(Fetcher::new(&settings)?);
        Ok(Runner::with_fetch(hub, settings, fetch))
    }

    pub fn with_fetch(hub: Arc<Hub>, settings: WatchSettings, fetch: Arc<dyn Fetch>) -> Runner {
        Runner {
            hub,
            fetch,
            settings,
            owner: HubId::this_process(),
            wake: tokio::sync::Notify::new(),
        }
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    pub fn settings(&self) -> &WatchSettings {
        &self.settings
    }

    /// How long a hub holds a check: its fetches' deadline and time to
    /// send and record what they found.
    pub fn lease(&self) -> Duration {
        self.settings.timeout + Duration::from_secs(30)
    }

    /// Look for due checks now (a watcher was added, resumed or edited).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Run every check due by the hub's clock, until none is left; how
    /// many ran. Tests call it after moving a manual clock.
    pub async fn tick(self: &Arc<Self>) -> Result<usize, StoreError> {
        let mut ran = 0;
        loop {
            let (store, now, lease, owner) = (
                self.hub.store().clone(),
                self.hub.clock().now(),
                self.lease(),
                self.owner,
            );
            let claims = blocking(move || store.claim_watchers(now, BATCH, lease, owner)).await?;
            if claims.is_empty() {
                return Ok(ran);
            }
            ran += claims.len();
            let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
            let mut tasks = tokio::task::JoinSet::new();
            for claim in claims {
                let (me, permits) = (self.clone(), permits.clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let name = claim.watcher.name.clone();
                    (name, me.run_claim(claim).await)
                });
            }
            while let Some(done) = tasks.join_next().await {
                match done {
                    Ok((_, Ok(_))) => {}
                    Ok((name, Err(e))) => {
                        tracing::warn!("watcher {name}: cannot record its check: {e}")
                    }
                    Err(e) => tracing::error!("a watcher's check panicked: {e}"),
                }
            }
        }
    }

    /// Run a leased check, send what it found, record the outcome.
    pub async fn run_claim(&self, claim: WatcherClaim) -> Result<CheckReport, StoreError> {
        let WatcherClaim {
            watcher: w, ticket, ..
        } = claim;
        let now = self.hub.clock().now();
        let (report, done) = match plan_of(&w, &self.settings, now) {
            Err(e) => {
                let error = format!("the watcher's settings no longer check ({e}): update it");
                self.failed(&w, now, &error, None).await
            }
            Ok(plan) => {
                let checked = check::run(
                    &plan,
                    Memory::from_json(&w.memory),
                    self.fetch.as_ref(),
                    now,
                    self.settings.timeout,
                )
                .await;
                self.settle(&w, &plan, checked).await
            }
        };
        let (store, id) = (self.hub.store().clone(), w.id);
        let recorded = blocking(move || store.finish_check(id, ticket, done)).await?;
        Ok(CheckReport { recorded, ..report })
    }

    /// What the check would send, without sending or recording anything.
    pub async fn dry_run(&self, w: &Watcher) -> Result<Checked, InputError> {
        let now = self.hub.clock().now();
        let plan = plan_of(w, &self.settings, now)?;
        Ok(check::run(
            &plan,
            Memory::from_json(&w.memory),
            self.fetch.as_ref(),
            now,
            self.settings.timeout,
        )
        .await)
    }

    /// Send a check's notifications and work out the watcher's new status.
    async fn settle(&self, w: &Watcher, plan: &Plan, checked: Checked) -> (CheckReport, CheckDone) {
        let mut events = Vec::new();
        for (i, n) in checked.notifications.iter().enumerate() {
            match self.send(w, plan, n.clone(), &i.to_string()).await {
                Ok(ev) => events.extend(ev),
                // Not sent: keep the old memory, so the next check finds
                // the same news and tries again. (The notifications before
                // this one did go out; the retry is a new check with new
                // keys, so they may go out once more. That takes an event
                // log failing mid-check; a channel removed from the config
                // fails the first send, before anything went out.)
                Err(e) => {
                    let error = format!("cannot send what it found: {e}");
                    let (mut report, done) = self
                        .failed(w, self.hub.clock().now(), &error, Some(plan))
                        .await;
                    report.notifications = checked.notifications.clone();
                    report.events = events;
                    return (report, done);
                }
            }
        }
        let now = self.hub.clock().now();
        let error = checked.failed().then(|| checked.errors.join("; "));
        let (mut status, alert) = account(&w.status, error.as_deref(), plan.fail_after);
        status.last_check_at = Some(now);
        status.last_result = Some(checked.result.clone());
        if !events.is_empty() {
            status.last_fired_at = Some(now);
        }
        let regular = plan
            .cadence
            .next_after(now)
            .unwrap_or(now.plus(Duration::from_secs(365 * 86_400)));
        status.next_check_at = Some(match &error {
            None => checked.also_due.map_or(regular, |t| t.min(regular)),
            Some(_) => self.retry_at(now, regular, status.consecutive_failures),
        });
        if let Some(alert) = alert {
            self.alert(w, plan, alert, &status).await;
        }
        let report = CheckReport {
            result: checked.result,
            notifications: checked.notifications,
            events,
            error,
            recorded: false,
        };
        let done = CheckDone {
            status,
            memory: Some(checked.memory.to_json()),
            at: now,
        };
        (report, done)
    }

    /// A check that found nothing to go on: the error recorded, the memory
    /// kept, the next try after a backoff.
    async fn failed(
        &self,
        w: &Watcher,
        now: UnixMillis,
        error: &str,
        plan: Option<&Plan>,
    ) -> (CheckReport, CheckDone) {
        let fail_after = plan.map_or(self.settings.fail_after, |p| p.fail_after);
        let (mut status, alert) = account(&w.status, Some(error), fail_after);
        status.last_check_at = Some(now);
        status.last_result = Some(format!("failed: {error}"));
        let regular = plan
            .and_then(|p| p.cadence.next_after(now))
            .unwrap_or(now.plus(Duration::from_secs(3_600)));
        status.next_check_at = Some(self.retry_at(now, regular, status.consecutive_failures));
        if let (Some(alert), Some(plan)) = (alert, plan) {
            self.alert(w, plan, alert, &status).await;
        }
        let report = CheckReport {
            result: format!("failed: {error}"),
            notifications: Vec::new(),
            events: Vec::new(),
            error: Some(error.to_string()),
            recorded: false,
        };
        let done = CheckDone {
            status,
            memory: None,
            at: now,
        };
        (report, done)
    }

    fn retry_at(&self, now: UnixMillis, regular: UnixMillis, failures: u32) -> UnixMillis {
        let interval = Duration::from_millis(regular.0.saturating_sub(now.0).max(0) as u64);
        now.plus(backoff(failures, interval, self.settings.min_interval))
    }

    /// "Watcher failing" or "recovered", to the watcher's own channels.
    async fn alert(&self, w: &Watcher, plan: &Plan, alert: Alert, status: &CheckStatus) {
        let (title, body, priority, key) = match alert {
            Alert::Failing => (
                format!("Watcher {} is failing", w.name),
                format!(
                    "Its last {} checks failed. Last error: {}. It keeps trying, and says so \
                     when it works again.",
                    status.consecutive_failures,
                    status.last_error.as_deref().unwrap_or("unknown")
                ),
                Priority::High,
                "failing",
            ),
            Alert::Recovered => (
                format!("Watcher {} recovered", w.name),
                "Its checks work again.".to_string(),
                plan.spec.notify.priority,
                "recovered",
            ),
        };
        let mut n = Notification::new(title, body);
        n.priority = priority;
        n.tags = plan.spec.notify.tags.clone();
        if let Err(e) = self.send(w, plan, n, key).await {
            tracing::warn!("watcher {}: cannot send its {key} notice: {e}", w.name);
        }
    }

    /// One notification as an event of the watcher's. Its idempotency key
    /// names the check (`checks` only moves once a check is recorded), so a
    /// check run again after a crash does not send it twice.
    async fn send(
        &self,
        w: &Watcher,
        plan: &Plan,
        notification: Notification,
        part: &str,
    ) -> Result<Option<EventId>, crate::hub::HubError> {
        let sub = Submission {
            notification,
            source: Source::Watcher,
            watcher: Some(w.id),
            only: plan.spec.notify.channels.clone(),
            idempotency_key: Some(format!("watcher:{}:{}:{part}", w.id, w.checks)),
            hold: None,
        };
        Ok(match self.hub.submit(sub).await? {
            Submitted::Logged { appended, .. } => Some(appended.event_id),
            Submitted::Skipped { .. } => None,
        })
    }

    /// Run checks as they fall due until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            if let Err(e) = self.tick().await {
                tracing::warn!("watchers: cannot claim due checks: {e}");
            }
            let store = self.hub.store().clone();
            let next = blocking(move || store.next_watcher_due())
                .await
                .ok()
                .flatten();
            let wait = match next {
                Some(t) => Duration::from_millis(
                    t.0.saturating_sub(self.hub.clock().now().0).max(0) as u64,
                )
                .min(IDLE),
                None => IDLE,
            };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// [`Runner::run`] on a task of its own.
    pub fn spawn(self: &Arc<Self>) -> RunnerTask {
        let stop = CancellationToken::new();
        let task = tokio::spawn(self.clone().run(stop.clone()));
        RunnerTask { stop, task }
    }
}

/// The running watcher task; it stops when this is dropped (a check under
/// way is left to its lease, and runs again once that runs out).
pub struct RunnerTask {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RunnerTask {
    fn drop(&mut self) {
        self.stop.cancel();
        self.task.abort();
    }
}

/// The watchers of a long-running process: the runner (which the surfaces
/// hand to `ops::watchers`) and its task.
pub struct Watching {
    pub runner: Arc<Runner>,
    _task: RunnerTask,
}

/// Start the watchers' task for `hub`, as `serve` and `mcp` start the
/// delivery worker. Without an HTTP client (TLS setup failed) the hub runs
/// on without watchers, and the log says why.
pub fn start(hub: &Arc<Hub>, settings: &WatchSettings) -> Option<Watching> {
    match Runner::new(hub.clone(), settings.clone()) {
        Ok(runner) => {
            let runner = Arc::new(runner);
            let task = runner.spawn();
            Some(Watching {
                runner,
                _task: task,
            })
        }
        Err(e) => {
            tracing::warn!("watchers are off: {e}");
            None
        }
    }
}

fn plan_of(w: &Watcher, settings: &WatchSettings, now: UnixMillis) -> Result<Plan, InputError> {
    WatcherSpec::from_json(w.spec.clone())?.plan(settings, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_is_said_once_after_n_and_recovery_once() {
        let mut s = CheckStatus::default();
        let mut alerts = Vec::new();
        for err in [
            Some("500"),
            Some("500"),
            Some("500"),
            Some("500"),
            None,
            None,
        ] {
            let (next, alert) = account(&s, err, 3);
            s = next;
            alerts.push(alert);
        }
        assert_eq!(
            alerts,
            [
                None,
                None,
                Some(Alert::Failing),
                None,
                Some(Alert::Recovered),
                None
            ]
        );
        assert_eq!(s.consecutive_failures, 0);
        assert_eq!(s.last_error, None);
        // Recovering before the notice went out says nothing.
        let (s, _) = account(&CheckStatus::default(), Some("x"), 3);
        assert_eq!(account(&s, None, 3).1, None);
    }

    #[test]
    fn backoff_doubles_up_to_the_interval() {
        let min = Duration::from_secs(60);
        let hour = Duration::from_secs(3_600);
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n, hour, min).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(3, Duration::from_secs(90), min).as_secs(), 90);
        assert_eq!(backoff(40, Duration::ZERO, min), min);
    }
}
