//! Manage watchers: create, list, get, update, pause, resume, delete, and
//! check one now. Every surface (MCP tools, REST, CLI, the config file's
//! `[watchers.NAME]`) renders these results and errors; none reads the
//! store itself. A watcher is named by its id or its name ([`WatcherRef`]).

use super::OpError;
use crate::hub::blocking;
use crate::notification::Notification;
use crate::store::{
    CheckStatus, EventId, NewWatcher, StoreError, UnixMillis, Watcher, WatcherEdit, WatcherId,
    WatcherOrigin, WatcherState,
};
use crate::watch::{Runner, WatcherSpec};
use serde::Serialize;
use serde_json::Value;

/// How a caller names a watcher: its id (`12`) or its name (`ai-news`).
/// Names start with a letter, so the two never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatcherRef {
    Id(WatcherId),
    Name(String),
}

impl WatcherRef {
    pub fn parse(text: &str) -> WatcherRef {
        match text.trim().parse::<i64>() {
            Ok(id) => WatcherRef::Id(WatcherId(id)),
            Err(_) => WatcherRef::Name(text.trim().to_string()),
        }
    }

    fn shown(&self) -> String {
        match self {
            WatcherRef::Id(id) => id.to_string(),
            WatcherRef::Name(n) => n.clone(),
        }
    }
}

/// A watcher as every surface shows it: its spec with secrets masked, and
/// where its checks stand. Serialized flat: `id`, `name`, `kind`, `origin`,
/// `state`, `spec`, `last_check_at`, `last_result`, `last_fired_at`,
/// `last_error`, `consecutive_failures`, `failing_reported`,
/// `next_check_at`, `created_at`, `updated_at`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatcherView {
    pub id: WatcherId,
    pub name: String,
    pub kind: String,
    pub origin: WatcherOrigin,
    pub state: WatcherState,
    pub spec: Value,
    #[serde(flatten)]
    pub status: CheckStatus,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

impl From<Watcher> for WatcherView {
    fn from(w: Watcher) -> Self {
        // A spec this version cannot read is shown with its URLs masked anyway.
        let spec = match WatcherSpec::from_json(w.spec.clone()) {
            Ok(s) => s.shown(),
            Err(_) => mask_urls(w.spec),
        };
        WatcherView {
            id: w.id,
            name: w.name,
            kind: w.kind,
            origin: w.origin,
            state: w.state,
            spec,
            status: w.status,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

fn mask_urls(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for key in ["url", "urls"] {
            match o.get_mut(key) {
                Some(Value::String(s)) => *s = crate::watch::model::mask_url(s),
                Some(Value::Array(a)) => a.iter_mut().for_each(|u| {
                    if let Value::String(s) = u {
                        *s = crate::watch::model::mask_url(s);
                    }
                }),
                _ => {}
            }
        }
    }
    v
}

/// What checking a watcher now found. With `sent`, its notifications went
/// out as events and the check was recorded like a scheduled one; without,
/// nothing was sent or stored (what would be sent).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trial {
    pub watcher: WatcherView,
    pub sent: bool,
    pub result: String,
    pub error: Option<String>,
    pub notifications: Vec<Notification>,
    pub events: Vec<EventId>,
}

fn store_err(e: StoreError) -> OpError {
    match e {
        StoreError::WatcherNameTaken(_) => OpError::invalid("name", e.to_string()),
        StoreError::TooManyWatchers { .. } => OpError::invalid("", e.to_string()),
        other => OpError::from_store(other),
    }
}

/// Check `spec` (the flat object) against the settings and the configured
/// channels; the checked spec and when it is first due.
fn checked(runner: &Runner, spec: Value) -> Result<(WatcherSpec, UnixMillis), OpError> {
    let now = runner.hub().clock().now();
    let spec = WatcherSpec::from_json(spec)?;
    let plan = spec.plan(runner.settings(), now)?;
    let channels = runner.hub().channels();
    for name in &spec.notify.channels {
        if !channels.iter().any(|c| c.id.as_str() == name) {
            return Err(OpError::UnknownChannel {
                name: name.clone(),
                known: channels.iter().map(|c| c.id.to_string()).collect(),
            });
        }
    }
    // A schedule fires at its time; the others take their baseline at once.
    let first = match &spec.kind {
        crate::watch::WatchKind::Schedule(_) => plan.cadence.next_after(now).unwrap_or(now),
        _ => now,
    };
    Ok((spec, first))
}

async fn find(runner: &Runner, r: &WatcherRef) -> Result<Watcher, OpError> {
    let store = runner.hub().store().clone();
    let r2 = r.clone();
    let found = blocking(move || match r2 {
        WatcherRef::Id(id) => store.watcher(id),
        WatcherRef::Name(n) => store.watcher_named(&n),
    })
    .await
    .map_err(store_err)?;
    found.ok_or_else(|| OpError::NoSuchWatcher(r.shown()))
}

/// Refuse to change what the config file owns.
fn not_from_file(w: &Watcher, doing: &str) -> Result<(), OpError> {
    match w.origin {
        WatcherOrigin::File => Err(OpError::invalid(
            "name",
            format!(
                "watcher {:?} comes from the config file: {doing} its [watchers.{}] table there",
                w.name, w.name
            ),
        )),
        WatcherOrigin::Api => Ok(()),
    }
}

/// Add a watcher. Its first check (a baseline for pages and feeds) runs at
/// once; a schedule's at its first time.
pub async fn create(
    runner: &Runner,
    spec: Value,
    origin: WatcherOrigin,
) -> Result<WatcherView, OpError> {
    let (spec, first) = checked(runner, spec)?;
    let new = NewWatcher {
        name: spec.name.clone(),
        kind: spec.kind.name().to_string(),
        spec: spec.to_json(),
        origin,
        state: WatcherState::Active,
        next_check_at: Some(first),
        at: runner.hub().clock().now(),
    };
    let (store, max) = (runner.hub().store().clone(), runner.settings().max);
    let w = blocking(move || store.create_watcher(new, max))
        .await
        .map_err(store_err)?;
    runner.wake();
    Ok(w.into())
}

/// Every watcher, by id.
pub async fn list(runner: &Runner) -> Result<Vec<WatcherView>, OpError> {
    let store = runner.hub().store().clone();
    let all = blocking(move || store.list_watchers())
        .await
        .map_err(store_err)?;
    Ok(all.into_iter().map(WatcherView::from).collect())
}

pub async fn get(runner: &Runner, r: &WatcherRef) -> Result<WatcherView, OpError> {
    Ok(find(runner, r).await?.into())
}

/// Change some fields: `patch` is merged into the watcher's spec (a `null`
/// removes a field), checked whole, and the watcher starts over (a new
/// baseline). Its name stays.
pub async fn update(runner: &Runner, r: &WatcherRef, patch: Value) -> Result<WatcherView, OpError> {
    let w = find(runner, r).await?;
    not_from_file(&w, "edit")?;
    let Value::Object(patch) = patch else {
        return Err(OpError::invalid(
            "",
            "expected an object of the fields to change",
        ));
    };
    let mut spec = w.spec.clone();
    let Some(fields) = spec.as_object_mut() else {
        return Err(OpError::Store(StoreError::BadData(format!(
            "watcher {}'s spec is not an object",
            w.id
        ))));
    };
    for (k, v) in patch {
        if k == "name" && v.as_str() != Some(w.name.as_str()) {
            return Err(OpError::invalid(
                "name",
                "a watcher keeps its name: create another and delete this one",
            ));
        }
        match v {
            Value::Null => fields.remove(&k),
            v => fields.insert(k, v),
        };
    }
    let (spec, first) = checked(runner, spec)?;
    let edit = WatcherEdit::Spec {
        kind: spec.kind.name().to_string(),
        spec: spec.to_json(),
        next_check_at: Some(first),
    };
    let edited = edit_one(runner, w.id, edit, r).await?;
    runner.wake();
    Ok(edited)
}

async fn edit_one(
    runner: &Runner,
    id: WatcherId,
    edit: WatcherEdit,
    r: &WatcherRef,
) -> Result<WatcherView, OpError> {
    let (store, at) = (runner.hub().store().clone(), runner.hub().clock().now());
    blocking(move || store.edit_watcher(id, edit, at))
        .await
        .map_err(store_err)?
        .map(WatcherView::from)
        .ok_or_else(|| OpError::NoSuchWatcher(r.shown()))
}

/// Stop checking until resumed; what it remembers is kept.
pub async fn pause(runner: &Runner, r: &WatcherRef) -> Result<WatcherView, OpError> {
    let w = find(runner, r).await?;
    edit_one(runner, w.id, WatcherEdit::Pause, r).await
}

/// Check again: when due, or at once if a check came due while paused. A
/// schedule paused over its time waits for its next one instead: a 09:00
/// reminder is not sent at 11:00 because it was resumed then.
pub async fn resume(runner: &Runner, r: &WatcherRef) -> Result<WatcherView, OpError> {
    let w = find(runner, r).await?;
    let now = runner.hub().clock().now();
    let next = match w.status.next_check_at {
        Some(t) if t > now => t,
        _ => WatcherSpec::from_json(w.spec.clone())
            .and_then(|s| s.plan(runner.settings(), now))
            .ok()
            .filter(|p| matches!(p.spec.kind, crate::watch::WatchKind::Schedule(_)))
            .and_then(|p| p.cadence.next_after(now))
            .unwrap_or(now),
    };
    let resume = WatcherEdit::Resume {
        next_check_at: Some(next),
    };
    let edited = edit_one(runner, w.id, resume, r).await?;
    runner.wake();
    Ok(edited)
}

/// Forget the watcher; its events stay in the log. Returns it as it was.
pub async fn delete(runner: &Runner, r: &WatcherRef) -> Result<WatcherView, OpError> {
    let w = find(runner, r).await?;
    not_from_file(&w, "remove")?;
    let (store, id) = (runner.hub().store().clone(), w.id);
    if !blocking(move || store.delete_watcher(id))
        .await
        .map_err(store_err)?
    {
        return Err(OpError::NoSuchWatcher(r.shown()));
    }
    Ok(w.into())
}

/// What [`sync_file`] changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Synced {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
}

/// Make the store's file watchers what the config file's `[watchers.NAME]`
/// tables say (`specs`, from [`crate::watch::WatchSettings::from_config`]):
/// new tables are created, changed ones updated (and start over), and file
/// watchers whose table is gone are removed. Watchers made by the tools are
/// left alone; a table whose name one of them has is refused.
pub async fn sync_file(runner: &Runner, specs: Vec<Value>) -> Result<Synced, OpError> {
    let mut synced = Synced::default();
    let existing = {
        let store = runner.hub().store().clone();
        blocking(move || store.list_watchers())
            .await
            .map_err(store_err)?
    };
    let mut named = Vec::new();
    for spec in specs {
        let table = format!("watchers.{}", spec["name"].as_str().unwrap_or_default());
        let (spec, first) = checked(runner, spec).map_err(|e| match e {
            OpError::Invalid { field, message } => OpError::Invalid {
                field: format!("{table}.{field}"),
                message,
            },
            other => other,
        })?;
        named.push(spec.name.clone());
        match existing.iter().find(|w| w.name == spec.name) {
            None => {
                create(runner, spec.to_json(), WatcherOrigin::File).await?;
                synced.created.push(spec.name);
            }
            Some(w) if w.origin == WatcherOrigin::Api => {
                return Err(OpError::invalid(
                    table,
                    "a watcher made by the tools has this name: rename the table, or delete \
                     that watcher",
                ));
            }
            Some(w) if w.spec == spec.to_json() => {}
            Some(w) => {
                let edit = WatcherEdit::Spec {
                    kind: spec.kind.name().to_string(),
                    spec: spec.to_json(),
                    next_check_at: Some(first),
                };
                edit_one(runner, w.id, edit, &WatcherRef::Id(w.id)).await?;
                synced.updated.push(spec.name);
            }
        }
    }
    for w in existing
        .iter()
        .filter(|w| w.origin == WatcherOrigin::File && !named.contains(&w.name))
    {
        let (store, id) = (runner.hub().store().clone(), w.id);
        blocking(move || store.delete_watcher(id))
            .await
            .map_err(store_err)?;
        synced.removed.push(w.name.clone());
    }
    runner.wake();
    Ok(synced)
}

/// Check now. Without `send`, say what would be sent and change nothing;
/// with it, run the check as the runner does (sent, recorded). A paused
/// watcher can be checked by hand.
pub async fn run(runner: &Runner, r: &WatcherRef, send: bool) -> Result<Trial, OpError> {
    let w = find(runner, r).await?;
    if !send {
        let checked = runner.dry_run(&w).await?;
        return Ok(Trial {
            error: checked.failed().then(|| checked.errors.join("; ")),
            result: checked.result,
            notifications: checked.notifications,
            events: Vec::new(),
            sent: false,
            watcher: w.into(),
        });
    }
    let (store, id, now, lease) = (
        runner.hub().store().clone(),
        w.id,
        runner.hub().clock().now(),
        runner.lease(),
    );
    let owner = crate::store::HubId::this_process();
    let Some(claim) = blocking(move || store.claim_watcher(id, now, lease, owner))
        .await
        .map_err(store_err)?
    else {
        return Err(OpError::Busy(format!(
            "watcher {:?} is being checked right now; look again in a moment",
            w.name
        )));
    };
    let report = runner.run_claim(claim).await.map_err(store_err)?;
    let now = find(runner, r).await?;
    Ok(Trial {
        watcher: now.into(),
        sent: true,
        result: report.result,
        error: report.error,
        notifications: report.notifications,
        events: report.events,
    })
}
