//! What every backend promises, stated once: each check is a function of a
//! [`Backend`], and a backend runs them all with one line,
//! `conformance_suite!(MyBackend::new())`, which expands to one `#[test]`
//! per check. A check left out of the macro's list is dead code, which
//! clippy's `-D warnings` refuses; a name in the list without its check does
//! not compile. SQLite-only promises (its file, its locks) are tested beside
//! SQLite.

use super::*;
use crate::notification::{ChannelId, EventKind, Notification, RunEvent, RunId};
use std::sync::Arc;
use std::time::Duration;

/// What the checks need of a backend: fresh, empty storage for each check.
pub trait Backend {
    /// A store on this check's storage. Each call opens it anew, as a
    /// restarted process would, and sees what earlier ones committed.
    fn open(&self) -> Arc<dyn Store>;
}

/// One `#[test]` per check, for the backend the expression makes (it is
/// evaluated once per test).
macro_rules! conformance_suite {
    (@checks $backend:expr; $($check:ident),+ $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::store::conformance::$check(&$backend);
            }
        )+
    };

    ($backend:expr) => {
        $crate::store::conformance::conformance_suite!(@checks $backend;
            append_is_write_ahead,
            idempotency_key_returns_the_first_event,
            claims_are_leased_and_reclaimed_after_expiry,
            sent_records_the_receipt,
            unavailable_backs_off_then_fails_and_can_be_retried,
            rate_limit_waits_and_rejection_fails_at_once,
            runs_follow_their_events_even_out_of_order,
            group_commit_writes_every_event_once,
            a_writer_turn_writes_as_the_calls_apart_do,
            a_turns_lease_takes_and_carries_what_a_claim_would,
            pending_deliveries_can_be_skipped_or_coalesced,
            a_late_failure_does_not_reopen_a_finished_delivery,
            a_runs_deliveries_to_one_channel_go_out_in_order,
            updates_are_coalesced_latest_wins_and_the_end_supersedes_them,
            a_start_never_waits_behind_a_held_update,
            planned_skips_and_holds_are_written_as_such,
            a_renewed_lease_keeps_a_send_in_flight_from_being_claimed_again,
            events_are_listed_since_an_id_and_by_run,
            delivery_counts_group_a_window_by_channel_and_state,
            activity_counts_recent_events_and_the_outbox_depth,
            retention_forgets_what_is_done_and_keeps_what_is_not,
            leases_of_one_hub_can_be_released_alone,
            a_hub_claims_only_the_channels_it_has,
            watchers_are_named_once_and_bounded,
            a_due_check_is_claimed_once_until_its_lease_runs_out,
            a_check_keeps_its_memory_and_status_across_restarts,
            paused_watchers_wait_and_a_new_spec_starts_over,
            events_name_the_watcher_that_raised_them,
            a_question_is_decided_by_its_first_answer_only,
            a_question_closes_once_and_every_hub_shares_the_reply_key,
        );
    };
}
pub(crate) use conformance_suite;

/// A lease holder; the number stands for a hub.
pub(crate) fn hub(n: u32) -> HubId {
    HubId::from_raw(n)
}

pub(crate) fn ch(name: &str) -> ChannelId {
    ChannelId::new(name).unwrap()
}

pub(crate) fn send(title: &str, channels: &[&str], key: Option<&str>) -> NewEvent {
    NewEvent {
        notification: Notification::new(title, "body"),
        source: Source::Cli,
        watcher: None,
        deliveries: channels.iter().map(|c| DeliveryPlan::now(ch(c))).collect(),
        idempotency_key: key.map(str::to_string),
        received_at: UnixMillis(1_000),
    }
}

pub(crate) fn run_event(kind: EventKind, at: i64, body: &str) -> NewEvent {
    let mut notification = Notification::new(format!("[{kind}] train"), body);
    notification.event = Some(RunEvent {
        run_id: RunId("train".into()),
        kind,
        progress: (kind == EventKind::Update).then_some(0.25),
        step: (kind == EventKind::Update).then(|| "epoch 1".to_string()),
        artifact_url: None,
        data: None,
        timestamp: None,
    });
    NewEvent {
        notification,
        source: Source::Mcp,
        watcher: None,
        deliveries: vec![DeliveryPlan::now(ch("slack"))],
        idempotency_key: None,
        received_at: UnixMillis(at),
    }
}

pub fn append_is_write_ahead(b: &dyn Backend) {
    let store = b.open();
    let a = store.append(send("hi", &["ops", "email"], None)).unwrap();
    assert_eq!(a.duplicate_of, None);
    assert_eq!(a.deliveries.len(), 2);
    drop(store);

    // A fresh connection (as after a crash) sees the event and both pending rows.
    let store = b.open();
    let ev = store.event(a.event_id).unwrap().unwrap();
    assert_eq!(ev.notification.title, "hi");
    assert_eq!(ev.source, Source::Cli);
    let rows = store.deliveries_for(&Target::Event(a.event_id)).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|d| d.state == DeliveryState::Pending));
}

pub fn idempotency_key_returns_the_first_event(b: &dyn Backend) {
    let store = b.open();
    let first = store.append(send("one", &["ops"], Some("k1"))).unwrap();
    let again = store
        .append(send("two", &["ops", "x"], Some("k1")))
        .unwrap();
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.duplicate_of, Some(first.event_id));
    assert_eq!(again.deliveries, first.deliveries);
    let claims = store
        .claim_due(
            UnixMillis(2_000),
            10,
            Duration::from_secs(60),
            hub(1),
            ClaimScope::All,
        )
        .unwrap();
    assert_eq!(claims.len(), 1, "the repeat must not queue another send");
    assert_eq!(claims[0].notification.title, "one");
}

pub fn claims_are_leased_and_reclaimed_after_expiry(b: &dyn Backend) {
    let store = b.open();
    store.append(send("a", &["ops"], None)).unwrap();
    let lease = Duration::from_secs(30);
    let now = UnixMillis(2_000);
    let got = store
        .claim_due(now, 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        store
            .claim_due(now, 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .is_empty()
    );
    // The worker crashed: once the lease ran out, another claims the row.
    let later = now.plus(lease);
    let again = store
        .claim_due(later, 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(again[0].delivery, got[0].delivery);
    // After a restart, resume() frees held rows at once.
    assert_eq!(store.release_leases(None).unwrap(), 1);
    assert_eq!(
        store
            .claim_due(later, 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .len(),
        1
    );
}

pub fn sent_records_the_receipt(b: &dyn Backend) {
    let store = b.open();
    let first = store
        .append(run_event(EventKind::Start, 1_000, "go"))
        .unwrap();
    let (_, d) = first.deliveries[0].clone();
    store
        .record_sent(d, Some("msg-1"), UnixMillis(1_100))
        .unwrap();
    store
        .append(run_event(EventKind::Update, 2_000, ""))
        .unwrap();
    let rows = store
        .deliveries_for(&Target::Run(RunId("train".into())))
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].state, rows[0].attempts), (DeliveryState::Sent, 1));
    let last = store
        .last_remote_id(&RunId("train".into()), &ch("slack"))
        .unwrap();
    assert_eq!(last.as_deref(), Some("msg-1"));
    assert!(
        store
            .claim_due(
                UnixMillis(3_000),
                10,
                Duration::from_secs(1),
                hub(1),
                ClaimScope::All
            )
            .unwrap()
            .len()
            == 1
    );
}

pub fn unavailable_backs_off_then_fails_and_can_be_retried(b: &dyn Backend) {
    let store = b.open();
    let a = store.append(send("a", &["ops"], None)).unwrap();
    let d = a.deliveries[0].1;
    let err = DeliveryError::Unavailable("503".into());
    let mut now = UnixMillis(10_000);
    for attempt in 1..=4 {
        assert_eq!(
            store.record_failure(d, &err, now).unwrap(),
            DeliveryState::Pending
        );
        let row = &store.deliveries_for(&Target::Event(a.event_id)).unwrap()[0];
        let wait = row.next_attempt_at.unwrap().0 - now.0;
        let nominal = 5_000 * 3_i64.pow(attempt - 1);
        assert!(
            (wait - nominal).abs() <= nominal / 5,
            "attempt {attempt}: {wait} ms"
        );
        assert!(
            store
                .claim_due(now, 10, Duration::from_secs(1), hub(1), ClaimScope::All)
                .unwrap()
                .is_empty()
        );
        now = row.next_attempt_at.unwrap();
        assert_eq!(
            store
                .claim_due(now, 10, Duration::from_secs(1), hub(1), ClaimScope::All)
                .unwrap()
                .len(),
            1
        );
    }
    assert_eq!(
        store.record_failure(d, &err, now).unwrap(),
        DeliveryState::Failed
    );
    let failed = store.failed_deliveries(10).unwrap();
    assert_eq!((failed[0].id, failed[0].attempts), (d, 5));
    assert_eq!(failed[0].last_error.as_deref(), Some("unavailable: 503"));

    store.retry(d, now).unwrap();
    assert_eq!(
        store
            .claim_due(now, 10, Duration::from_secs(1), hub(1), ClaimScope::All)
            .unwrap()
            .len(),
        1
    );
    // Leased: being sent right now.
    assert!(matches!(store.retry(d, now), Err(StoreError::InFlight(_))));
    // Pending and waiting for its next attempt: due now, attempts kept.
    let later = now.plus(Duration::from_secs(2));
    let err = DeliveryError::Unavailable("503".into());
    assert_eq!(
        store.record_failure(d, &err, later).unwrap(),
        DeliveryState::Pending
    );
    assert!(store.due_deliveries(later, 10).unwrap().is_empty());
    store.retry(d, later).unwrap();
    let due = store.due_deliveries(later, 10).unwrap();
    assert_eq!((due[0].id, due[0].attempts), (d, 6));
    store.record_sent(d, None, later).unwrap();
    assert!(matches!(
        store.retry(d, later),
        Err(StoreError::NotRetryable { .. })
    ));
}

pub fn rate_limit_waits_and_rejection_fails_at_once(b: &dyn Backend) {
    let store = b.open();
    let a = store.append(send("a", &["ops", "mail"], None)).unwrap();
    let (ops, mail) = (a.deliveries[0].1, a.deliveries[1].1);
    let now = UnixMillis(10_000);
    let s = store
        .record_failure(ops, &DeliveryError::RateLimited(Some(9)), now)
        .unwrap();
    assert_eq!(s, DeliveryState::Pending);
    let rows = store.deliveries_for(&Target::Event(a.event_id)).unwrap();
    assert_eq!(rows[0].next_attempt_at, Some(UnixMillis(19_000)));
    let s = store
        .record_failure(mail, &DeliveryError::Rejected("401".into()), now)
        .unwrap();
    assert_eq!(s, DeliveryState::Failed);
    assert!(matches!(
        store.record_failure(DeliveryId(999), &DeliveryError::Rejected("x".into()), now),
        Err(StoreError::NoSuchDelivery(_))
    ));
}

pub fn runs_follow_their_events_even_out_of_order(b: &dyn Backend) {
    let store = b.open();
    let id = RunId("train".into());
    // The update arrives first and opens the run.
    store
        .append(run_event(EventKind::Update, 2_000, ""))
        .unwrap();
    let r = store.run(&id).unwrap().unwrap();
    assert_eq!(
        (r.status, r.progress, r.step.as_deref()),
        (RunStatus::Running, Some(0.25), Some("epoch 1"))
    );
    store
        .append(run_event(EventKind::End, 6_000, "done"))
        .unwrap();
    // A late update is logged but does not reopen the run.
    let late = store
        .append(run_event(EventKind::Update, 7_000, "late"))
        .unwrap();
    assert!(store.event(late.event_id).unwrap().is_some());
    let r = store.run(&id).unwrap().unwrap();
    assert_eq!(r.status, RunStatus::Succeeded);
    assert_eq!(r.duration_ms, Some(4_000));
    assert_eq!(r.last_message.as_deref(), Some("done"));

    let mut other = run_event(EventKind::Error, 9_000, "oom");
    if let Some(e) = other.notification.event.as_mut() {
        e.run_id = RunId("eval".into());
        e.data = Some(serde_json::json!({"error_code": "E_OOM"}));
    }
    store.append(other).unwrap();
    let all = store.list_runs(None, 10, 0).unwrap();
    assert_eq!(
        all.iter().map(|r| r.run_id.0.as_str()).collect::<Vec<_>>(),
        ["eval", "train"]
    );
    let failed = store.list_runs(Some(RunStatus::Failed), 10, 0).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].error_code.as_deref(), Some("E_OOM"));
    assert_eq!(store.list_runs(None, 10, 1).unwrap().len(), 1);
}

pub fn group_commit_writes_every_event_once(b: &dyn Backend) {
    let store = b.open();
    let group = Arc::new(GroupCommit::new(store.clone(), 64));
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let group = group.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let key = format!("{t}-{}", i % 25);
                    group
                        .append_blocking(send("g", &["ops"], Some(&key)))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let due = store
        .claim_due(
            UnixMillis(5_000),
            1_000,
            Duration::from_secs(1),
            hub(1),
            ClaimScope::All,
        )
        .unwrap();
    assert_eq!(due.len(), 100, "25 distinct keys per worker");
}

/// A backend that writes a writer turn in one transaction
/// ([`EventLog::write_turn`]) answers as the calls apart would: every
/// event written, only the rows asked for leased, each outcome recorded
/// or refused on its own.
pub fn a_writer_turn_writes_as_the_calls_apart_do(b: &dyn Backend) {
    let store = b.open();
    let earlier = store.append(send("earlier", &["ops"], None)).unwrap();
    let claimed = store
        .claim_due(
            UnixMillis(1_000),
            10,
            Duration::from_secs(600),
            hub(1),
            ClaimScope::All,
        )
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let attempts = [
        Attempt {
            delivery: earlier.deliveries[0].1,
            result: Ok(Some("msg-7".into())),
            parts_sent: 0,
            at: UnixMillis(1_500),
        },
        Attempt {
            delivery: DeliveryId(9_999),
            result: Ok(None),
            parts_sent: 0,
            at: UnixMillis(1_500),
        },
    ];
    let events = [
        send("new", &["ops", "team"], None),
        send("another", &["ops"], None),
    ];
    // Lease the first new event's `ops` row only, as a caller holding room
    // in `ops` alone would.
    let lease = |appended: &[Appended]| {
        let (_, ops) = appended[0].deliveries[0].clone();
        Some(ClaimRequest {
            now: UnixMillis(2_000),
            limit: 1,
            lease: Duration::from_secs(600),
            owner: hub(2),
            scope: ClaimScope::Deliveries(vec![ops].into()),
            room: Room::default(),
            only: None,
        })
    };
    let turn = TurnWrites {
        events: &events,
        lease: &lease,
        attempts: &attempts,
    };
    let Some(written) = store.write_turn(turn) else {
        return; // This backend makes the calls apart.
    };
    let written = written.unwrap();
    assert_eq!(written.appended.len(), 2);
    let new = &written.appended[0];
    assert_eq!(
        written
            .leased
            .iter()
            .map(|c| c.delivery)
            .collect::<Vec<_>>(),
        [new.deliveries[0].1]
    );
    assert_eq!(written.recorded.len(), 2);
    let sent = written.recorded[0].as_ref().unwrap();
    assert_eq!(
        (sent.state, sent.remote_id.as_deref()),
        (DeliveryState::Sent, Some("msg-7"))
    );
    assert!(
        matches!(
            written.recorded[1],
            Err(StoreError::NoSuchDelivery(DeliveryId(9_999)))
        ),
        "{:?}",
        written.recorded[1]
    );
    // What is left to claim: the rows not leased, none twice.
    let rest = store
        .claim_due(
            UnixMillis(3_000),
            10,
            Duration::from_secs(600),
            hub(3),
            ClaimScope::All,
        )
        .unwrap();
    let mut rest: Vec<_> = rest.iter().map(|c| c.delivery).collect();
    rest.sort();
    assert_eq!(
        rest,
        [new.deliveries[1].1, written.appended[1].deliveries[0].1]
    );
    let earlier = store.delivery(earlier.deliveries[0].1).unwrap().unwrap();
    assert_eq!(earlier.state, DeliveryState::Sent);
}

/// A turn leases its own new rows by the claim's rules (a run's order, the
/// room, the channels, what is due), and each lease carries what the claim
/// query would: the notification as logged, the key, the counts.
pub fn a_turns_lease_takes_and_carries_what_a_claim_would(b: &dyn Backend) {
    let store = b.open();
    let lease = Duration::from_secs(600);
    // The run's start went out before the turn.
    append_sent(&*store, planned(EventKind::Start, 1_000, None));
    let mut first = send("first", &["ops", "team", "held"], None);
    first.deliveries[2].not_before = Some(UnixMillis(100_000_000));
    let events = [
        planned(EventKind::End, 6_000, None),
        planned(EventKind::Error, 6_000, None),
        first,
        send("second", &["ops"], None),
    ];
    let every_row = |appended: &[Appended]| -> Arc<[DeliveryId]> {
        appended
            .iter()
            .flat_map(|a| a.deliveries.iter().map(|(_, id)| *id))
            .collect()
    };
    let request = |scope: Arc<[DeliveryId]>| ClaimRequest {
        now: UnixMillis(6_000),
        limit: 100,
        lease,
        owner: hub(2),
        scope: ClaimScope::Deliveries(scope),
        room: Room {
            per_channel: None,
            channels: vec![(ch("ops"), 1)],
        },
        only: Some(vec![ch("slack"), ch("ops"), ch("held")].into()),
    };
    let lease_all = |appended: &[Appended]| Some(request(every_row(appended)));
    let turn = TurnWrites {
        events: &events,
        lease: &lease_all,
        attempts: &[],
    };
    let Some(written) = store.write_turn(turn) else {
        return; // This backend makes the calls apart.
    };
    let written = written.unwrap();
    let a = &written.appended;
    // In the order of their rows (the claim query sorts by when each fell due).
    let mut leased = written.leased;
    leased.sort_by_key(|c| c.delivery);
    let ids = |claims: &[Claim]| claims.iter().map(|c| c.delivery).collect::<Vec<_>>();
    // The end and the first `ops` row; not the error (behind the end in
    // flight), `team` (another hub's), the held row, the second `ops` row
    // (room for one).
    assert_eq!(ids(&leased), [a[0].deliveries[0].1, a[2].deliveries[0].1]);
    let end = &leased[0].notification.body;
    assert!(end.contains("Duration: 5.0s"), "{end}");
    // Once the leases run out, the claim query takes the same rows, and
    // each claim carries the same.
    let later = UnixMillis(6_000).plus(lease);
    let mut again = store
        .claim(&ClaimRequest {
            now: later,
            owner: hub(3),
            ..request(ids(&leased).into())
        })
        .unwrap();
    again.sort_by_key(|c| c.delivery);
    let lease_until = later.plus(lease);
    let same: Vec<Claim> = leased
        .iter()
        .map(|c| Claim {
            lease_until,
            ..c.clone()
        })
        .collect();
    assert_eq!(again, same);
}

pub fn pending_deliveries_can_be_skipped_or_coalesced(b: &dyn Backend) {
    let store = b.open();
    let a = store.append(send("a", &["ops", "mail"], None)).unwrap();
    let (ops, mail) = (a.deliveries[0].1, a.deliveries[1].1);
    let now = UnixMillis(2_000);
    store
        .record_not_sent(
            ops,
            DeliveryState::Coalesced,
            "replaced by a newer update",
            now,
        )
        .unwrap();
    store.record_sent(mail, None, now).unwrap();
    assert!(matches!(
        store.record_not_sent(mail, DeliveryState::Skipped, "late", now),
        Err(StoreError::NotPending { .. })
    ));
    assert!(matches!(
        store.record_not_sent(ops, DeliveryState::Sent, "", now),
        Err(StoreError::NotACloseState(_))
    ));
    assert!(
        store
            .claim_due(now, 10, Duration::from_secs(1), hub(1), ClaimScope::All)
            .unwrap()
            .is_empty()
    );
    let rows = store.deliveries_for(&Target::Event(a.event_id)).unwrap();
    assert_eq!(rows[0].state, DeliveryState::Coalesced);
}

pub fn a_late_failure_does_not_reopen_a_finished_delivery(b: &dyn Backend) {
    let store = b.open();
    let d = store.append(send("a", &["ops"], None)).unwrap().deliveries[0].1;
    store.record_sent(d, Some("m1"), UnixMillis(2_000)).unwrap();
    let err = store
        .record_failure(
            d,
            &DeliveryError::Unavailable("late".into()),
            UnixMillis(3_000),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::NotPending {
                state: DeliveryState::Sent,
                ..
            }
        ),
        "{err:?}"
    );
}

fn planned(kind: EventKind, at: i64, interval: Option<u64>) -> NewEvent {
    let mut ev = run_event(kind, at, "x");
    ev.deliveries[0].update_interval = interval.map(Duration::from_secs);
    ev
}

/// Append `ev` and send it: claimed and recorded sent at its own time.
fn append_sent(store: &dyn Store, ev: NewEvent) -> Appended {
    let at = ev.received_at;
    let appended = store.append(ev).unwrap();
    let c = store
        .claim_due(at, 10, Duration::from_secs(60), hub(1), ClaimScope::All)
        .unwrap();
    store.record_sent(c[0].delivery, None, at).unwrap();
    appended
}

pub fn a_runs_deliveries_to_one_channel_go_out_in_order(b: &dyn Backend) {
    let store = b.open();
    store
        .append(planned(EventKind::Start, 1_000, None))
        .unwrap();
    store
        .append(planned(EventKind::Update, 1_100, None))
        .unwrap();
    let lease = Duration::from_secs(60);
    // Only the start may go; the update waits behind it.
    let first = store
        .claim_due(UnixMillis(2_000), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        store
            .claim_due(UnixMillis(2_000), 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .is_empty()
    );
    store
        .record_sent(first[0].delivery, Some("m1"), UnixMillis(2_100))
        .unwrap();
    let next = store
        .claim_due(UnixMillis(2_200), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(
        next[0].notification.event.as_ref().unwrap().kind,
        EventKind::Update
    );
}

pub fn updates_are_coalesced_latest_wins_and_the_end_supersedes_them(b: &dyn Backend) {
    let store = b.open();
    let minute = Some(60);
    append_sent(&*store, planned(EventKind::Start, 1_000, None));
    let lease = Duration::from_secs(60);
    // The first update goes at once; it is sent.
    let u1 = append_sent(&*store, planned(EventKind::Update, 2_000, minute));
    // The next two wait a minute after it; the later replaces the earlier.
    let u2 = store
        .append(planned(EventKind::Update, 3_000, minute))
        .unwrap();
    let u3 = store
        .append(planned(EventKind::Update, 4_000, minute))
        .unwrap();
    let state = |a: &Appended| {
        let d = store.deliveries_for(&Target::Event(a.event_id)).unwrap();
        (d[0].state, d[0].next_attempt_at)
    };
    assert_eq!(state(&u1).0, DeliveryState::Sent);
    assert_eq!(state(&u2).0, DeliveryState::Coalesced);
    assert_eq!(
        state(&u3),
        (DeliveryState::Pending, Some(UnixMillis(62_000)))
    );
    // Nothing is due before then.
    assert!(
        store
            .claim_due(UnixMillis(5_000), 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .is_empty()
    );
    // The end goes now, and the waiting update is moot.
    let end = store
        .append(planned(EventKind::End, 6_000, minute))
        .unwrap();
    assert_eq!(state(&u3).0, DeliveryState::Coalesced);
    let c = store
        .claim_due(UnixMillis(6_000), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].event_id, end.event_id);
    // The end's message says how long the run took.
    assert!(
        c[0].notification.body.contains("Duration: 5.0s"),
        "{}",
        c[0].notification.body
    );
}

pub fn a_start_never_waits_behind_a_held_update(b: &dyn Backend) {
    let store = b.open();
    let minute = Some(60);
    let lease = Duration::from_secs(60);
    // An update opened the run and went; the next one is held for a minute.
    append_sent(&*store, planned(EventKind::Update, 1_000, minute));
    let held = store
        .append(planned(EventKind::Update, 2_000, minute))
        .unwrap();
    // The run's start, arriving late, goes at once.
    let start = store
        .append(planned(EventKind::Start, 3_000, minute))
        .unwrap();
    let c = store
        .claim_due(UnixMillis(3_000), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(c.len(), 1, "{c:?}");
    assert_eq!(c[0].event_id, start.event_id);
    store
        .record_sent(c[0].delivery, Some("m2"), UnixMillis(3_000))
        .unwrap();
    // The held update still goes when its minute is up.
    let c = store
        .claim_due(UnixMillis(61_000), 10, lease, hub(1), ClaimScope::All)
        .unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].event_id, held.event_id);
}

pub fn planned_skips_and_holds_are_written_as_such(b: &dyn Backend) {
    let store = b.open();
    let mut ev = send("t", &["held", "skipped"], None);
    ev.deliveries[0].not_before = Some(UnixMillis(50_000));
    ev.deliveries[1].skip = Some("the channel's `events` rule does not include message".into());
    let a = store.append(ev).unwrap();
    let rows = store.deliveries_for(&Target::Event(a.event_id)).unwrap();
    assert_eq!(rows[0].state, DeliveryState::Pending);
    assert_eq!(rows[0].next_attempt_at, Some(UnixMillis(50_000)));
    assert_eq!(rows[1].state, DeliveryState::Skipped);
    assert!(rows[1].last_error.as_deref().unwrap().contains("events"));
    let lease = Duration::from_secs(60);
    assert!(
        store
            .claim_due(UnixMillis(49_999), 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due(UnixMillis(50_000), 10, lease, hub(1), ClaimScope::All)
            .unwrap()
            .len(),
        1
    );
}

pub fn a_renewed_lease_keeps_a_send_in_flight_from_being_claimed_again(b: &dyn Backend) {
    let store = b.open();
    store.append(send("a", &["x"], None)).unwrap();
    store.append(send("b", &["x"], None)).unwrap();
    let lease = Duration::from_secs(30);
    let claims = store
        .claim_due(UnixMillis(2_000), 10, lease, hub(111), ClaimScope::All)
        .unwrap();
    let ids: Vec<DeliveryId> = claims.iter().map(|c| c.delivery).collect();
    // Another owner's renewal changes nothing; a renewal never shortens a lease.
    assert_eq!(
        store
            .renew_leases(&ids, hub(222), UnixMillis(90_000))
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .renew_leases(&ids[..1], hub(111), UnixMillis(20_000))
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .renew_leases(&ids[..1], hub(111), UnixMillis(90_000))
            .unwrap(),
        1
    );
    // Past the first lease, only the row not renewed is free.
    let later = store
        .claim_due(UnixMillis(40_000), 10, lease, hub(222), ClaimScope::All)
        .unwrap();
    assert_eq!(
        later.iter().map(|c| c.delivery).collect::<Vec<_>>(),
        ids[1..]
    );
    // A row given back (or finished) is not leased again by a renewal.
    store.record_sent(ids[0], None, UnixMillis(41_000)).unwrap();
    store
        .put_back(&ids[1..], UnixMillis(41_000), UnixMillis(41_000), None)
        .unwrap();
    assert_eq!(
        store
            .renew_leases(&ids, hub(111), UnixMillis(99_000))
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .renew_leases(&ids, hub(222), UnixMillis(99_000))
            .unwrap(),
        0
    );
}

pub fn events_are_listed_since_an_id_and_by_run(b: &dyn Backend) {
    let store = b.open();
    assert_eq!(store.last_event_id().unwrap(), None, "an empty log");
    let a = store.append(send("a", &["x"], None)).unwrap();
    store
        .append(run_event(EventKind::Start, 2_000, "go"))
        .unwrap();
    store
        .append(run_event(EventKind::End, 3_000, "done"))
        .unwrap();
    let since = store
        .events(&EventQuery {
            since: Some(a.event_id),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(since.len(), 2);
    let ends = store
        .events(&EventQuery {
            run_id: Some(RunId("train".into())),
            kind: Some(EventKind::End),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(ends.len(), 1);
    assert_eq!(ends[0].notification.title, "[end] train");
    assert_eq!(store.last_event_id().unwrap(), Some(ends[0].id));
}

pub fn delivery_counts_group_a_window_by_channel_and_state(b: &dyn Backend) {
    let store = b.open();
    let ids = |title| store.append(send(title, &["ops", "email"], None)).unwrap();
    let (a, b, c) = (ids("a"), ids("b"), ids("c"));
    let now = UnixMillis(50_000);
    // ops: a sent, b retrying, c failed at once; email: a sent, the rest waiting.
    store.record_sent(a.deliveries[0].1, None, now).unwrap();
    store.record_sent(a.deliveries[1].1, None, now).unwrap();
    let unavailable = DeliveryError::Unavailable("503".into());
    store
        .record_failure(b.deliveries[0].1, &unavailable, now)
        .unwrap();
    let rejected = DeliveryError::Rejected("400".into());
    store
        .record_failure(c.deliveries[0].1, &rejected, now)
        .unwrap();

    let counts = store.delivery_counts(UnixMillis(0)).unwrap();
    let names: Vec<&str> = counts.iter().map(|c| c.channel.as_str()).collect();
    assert_eq!(names, ["email", "ops"]);
    let (email, ops) = (&counts[0], &counts[1]);
    assert_eq!(
        (ops.sent, ops.retrying, ops.failed, ops.pending),
        (1, 1, 1, 0)
    );
    assert_eq!((email.sent, email.pending, email.failed), (1, 2, 0));
    // Only rows updated in the window count: the appends at 1 s fall out.
    let recent = store.delivery_counts(now).unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!((recent[0].sent, recent[0].pending), (1, 0));
    assert!(
        store
            .delivery_counts(now.plus(Duration::from_secs(1)))
            .unwrap()
            .is_empty()
    );
}

pub fn activity_counts_recent_events_and_the_outbox_depth(b: &dyn Backend) {
    let store = b.open();
    let empty = store.activity(UnixMillis(0)).unwrap();
    assert_eq!((empty.events_since, empty.pending), (0, 0));
    let a = store.append(send("a", &["ops", "email"], None)).unwrap();
    store.append(send("b", &["ops"], None)).unwrap();
    let mut late = send("c", &["ops"], None);
    late.received_at = UnixMillis(9_000);
    store.append(late).unwrap();
    store
        .record_sent(a.deliveries[0].1, None, UnixMillis(2_000))
        .unwrap();
    let all = store.activity(UnixMillis(0)).unwrap();
    assert_eq!((all.events_since, all.pending), (3, 3));
    // The window counts events by when they were written; the depth is all of it.
    let recent = store.activity(UnixMillis(5_000)).unwrap();
    assert_eq!((recent.events_since, recent.pending), (1, 3));
}

const DAY: i64 = 86_400_000;

pub fn retention_forgets_what_is_done_and_keeps_what_is_not(b: &dyn Backend) {
    let store = b.open();
    let lease = Duration::from_secs(60);
    // Done at once (routing said no), unless it is claimed or left pending.
    let at = |t: i64, title: &str| {
        let mut ev = send(title, &["ops"], Some(title));
        ev.received_at = UnixMillis(t);
        if title != "pending" && title != "sent" {
            ev.deliveries[0].skip = Some("done".into());
        }
        ev
    };
    // Day 0: one sent, one still pending (retrying); a run still running.
    let sent = store.append(at(0, "sent")).unwrap();
    let c = store
        .claim_due(
            UnixMillis(0),
            10,
            lease,
            hub(1),
            ClaimScope::Event(sent.event_id),
        )
        .unwrap();
    store
        .record_sent(c[0].delivery, None, UnixMillis(0))
        .unwrap();
    let pending = store.append(at(0, "pending")).unwrap();
    let mut running = run_event(EventKind::Start, 0, "go");
    running.notification.event.as_mut().unwrap().run_id = RunId("long".into());
    running.deliveries[0].skip = Some("test".into());
    store.append(running).unwrap();
    // A finished run, all of it old.
    for (kind, t) in [(EventKind::Start, 0), (EventKind::End, 1_000)] {
        let mut ev = run_event(kind, t, "x");
        ev.deliveries[0].skip = Some("test".into());
        store.append(ev).unwrap();
    }
    // Day 40: a recent one.
    let recent = store.append(at(40 * DAY, "recent")).unwrap();

    let keep = Retention::default();
    let now = UnixMillis(40 * DAY);
    let dry = store.prune(&keep, now, 1, true).unwrap();
    assert_eq!(
        dry,
        Pruned {
            events: 3,
            deliveries: 3,
            runs: 1
        },
        "a dry run counts everything, past the limit"
    );
    assert_eq!(store.size().unwrap().events, 6, "a dry run deletes nothing");
    // In batches.
    let first = store.prune(&keep, now, 2, false).unwrap();
    assert_eq!(first.events, 2);
    let rest = store.prune(&keep, now, 2, false).unwrap();
    assert_eq!((rest.events, rest.runs), (1, 1), "{rest:?}");
    assert_eq!(
        store.prune(&keep, now, 2, false).unwrap(),
        Pruned::default()
    );

    assert!(store.event(sent.event_id).unwrap().is_none());
    assert!(
        store.event(pending.event_id).unwrap().is_some(),
        "pending work stays"
    );
    assert!(store.event(recent.event_id).unwrap().is_some());
    assert!(
        store.run(&RunId("long".into())).unwrap().is_some(),
        "a running run stays"
    );
    assert!(store.run(&RunId("train".into())).unwrap().is_none());
    let size = store.size().unwrap();
    assert_eq!(size.events, 3);
    assert_eq!(size.oldest_event_at, Some(UnixMillis(0)));
    assert!(size.bytes > 0);
    // A forgotten key may be used again; a kept one still answers.
    let again = store.append(at(40 * DAY, "again")).unwrap();
    assert!(again.duplicate_of.is_none());
    let reused = store.append(at(40 * DAY, "sent")).unwrap();
    assert!(reused.duplicate_of.is_none());

    let dup = store.append(at(40 * DAY, "recent")).unwrap();
    assert_eq!(dup.duplicate_of, Some(recent.event_id));

    // Keep only the newest events, whatever their age.
    let newest = Retention {
        keep_days: None,
        keep_events: Some(1),
    };
    let p = store.prune(&newest, now, 100, false).unwrap();
    assert_eq!(p.events, 2, "recent and again go; {p:?}");
    store.compact().unwrap();
    assert_eq!(
        store.size().unwrap().events,
        3,
        "compacting keeps every event"
    );
    assert!(store.event(pending.event_id).unwrap().is_some());
    assert!(store.event(again.event_id).unwrap().is_none());
}

pub fn leases_of_one_hub_can_be_released_alone(b: &dyn Backend) {
    let store = b.open();
    store.append(send("a", &["x"], None)).unwrap();
    store.append(send("b", &["x"], None)).unwrap();
    let lease = Duration::from_secs(600);
    for owner in [111, 222] {
        let got = store
            .claim_due(UnixMillis(2_000), 1, lease, hub(owner), ClaimScope::All)
            .unwrap();
        assert_eq!(got.len(), 1);
    }
    assert_eq!(store.release_leases(Some(hub(111))).unwrap(), 1);
    // Only the released row can be claimed again.
    assert_eq!(
        store
            .claim_due(UnixMillis(2_000), 10, lease, hub(333), ClaimScope::All)
            .unwrap()
            .len(),
        1
    );
    // Every lease at once (all their hubs are known to be gone).
    assert_eq!(store.release_leases(None).unwrap(), 2);
    assert_eq!(
        store
            .claim_due(UnixMillis(2_000), 10, lease, hub(444), ClaimScope::All)
            .unwrap()
            .len(),
        2
    );
}

fn new_watcher(name: &str, next: Option<i64>) -> NewWatcher {
    NewWatcher {
        name: name.into(),
        kind: "web".into(),
        spec: serde_json::json!({"name": name, "kind": "web", "urls": ["https://example.org/"]}),
        origin: WatcherOrigin::Api,
        state: WatcherState::Active,
        next_check_at: next.map(UnixMillis),
        at: UnixMillis(1_000),
    }
}

fn done(at: i64, memory: Option<serde_json::Value>, next: i64) -> CheckDone {
    CheckDone {
        status: CheckStatus {
            last_check_at: Some(UnixMillis(at)),
            last_result: Some("no change".into()),
            next_check_at: Some(UnixMillis(next)),
            ..Default::default()
        },
        memory,
        at: UnixMillis(at),
    }
}

pub fn watchers_are_named_once_and_bounded(b: &dyn Backend) {
    let store = b.open();
    let a = store
        .create_watcher(new_watcher("news", Some(0)), 2)
        .unwrap();
    assert_eq!(a.name, "news");
    assert_eq!(a.state, WatcherState::Active);
    assert_eq!(a.memory, serde_json::Value::Null);
    assert_eq!(a.status.next_check_at, Some(UnixMillis(0)));
    let taken = store.create_watcher(new_watcher("news", None), 2);
    assert!(
        matches!(taken, Err(StoreError::WatcherNameTaken(ref n)) if n == "news"),
        "{taken:?}"
    );
    let b2 = store.create_watcher(new_watcher("btc", None), 2).unwrap();
    let full = store.create_watcher(new_watcher("third", None), 2);
    assert!(
        matches!(full, Err(StoreError::TooManyWatchers { max: 2 })),
        "{full:?}"
    );
    assert_eq!(store.watcher_named("btc").unwrap().unwrap().id, b2.id);
    let names: Vec<String> = store
        .list_watchers()
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["news", "btc"]);
    assert!(store.delete_watcher(a.id).unwrap());
    assert!(!store.delete_watcher(a.id).unwrap());
    assert!(store.watcher(a.id).unwrap().is_none());
    // A deleted watcher's id is never given again.
    let c = store.create_watcher(new_watcher("news", None), 2).unwrap();
    assert!(c.id > b2.id, "{:?} after {:?}", c.id, b2.id);
}

pub fn a_due_check_is_claimed_once_until_its_lease_runs_out(b: &dyn Backend) {
    let store = b.open();
    let w = store
        .create_watcher(new_watcher("news", Some(5_000)), 10)
        .unwrap();
    store
        .create_watcher(new_watcher("later", Some(90_000)), 10)
        .unwrap();
    store
        .create_watcher(new_watcher("unscheduled", None), 10)
        .unwrap();
    let lease = Duration::from_secs(30);
    assert!(
        store
            .claim_watchers(UnixMillis(4_999), 10, lease, hub(1))
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let first = store
        .claim_watchers(UnixMillis(5_000), 10, lease, hub(1))
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].watcher.id, w.id);
    assert_eq!(first[0].lease_until, UnixMillis(35_000));
    // Another hub (or the same one again) finds nothing while the lease holds.
    for owner in [2, 1] {
        assert!(
            store
                .claim_watchers(UnixMillis(6_000), 10, lease, hub(owner))
                .unwrap()
                .is_empty()
        );
    }
    assert!(
        store
            .claim_watcher(w.id, UnixMillis(6_000), lease, hub(2))
            .unwrap()
            .is_none(),
        "a check by hand waits for the one in flight"
    );
    assert_eq!(store.next_watcher_due().unwrap(), Some(UnixMillis(35_000)));
    // The first hub stalls past its lease: the second takes the check over,
    // and the first one's outcome is no longer recorded.
    let second = store
        .claim_watchers(UnixMillis(35_000), 10, lease, hub(2))
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(second[0].ticket, first[0].ticket);
    assert!(
        !store
            .finish_check(w.id, first[0].ticket, done(36_000, None, 100_000))
            .unwrap()
    );
    assert!(
        store
            .finish_check(w.id, second[0].ticket, done(36_000, None, 100_000))
            .unwrap()
    );
    // Recorded once: due again only at its next check.
    assert!(
        store
            .claim_watchers(UnixMillis(80_000), 10, lease, hub(1))
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_watcher_due().unwrap(), Some(UnixMillis(90_000)));
    let by_hand = store
        .claim_watcher(w.id, UnixMillis(80_000), lease, hub(1))
        .unwrap()
        .unwrap();
    assert_eq!(by_hand.watcher.id, w.id);
}

pub fn a_check_keeps_its_memory_and_status_across_restarts(b: &dyn Backend) {
    let store = b.open();
    let w = store
        .create_watcher(new_watcher("news", Some(0)), 10)
        .unwrap();
    let lease = Duration::from_secs(30);
    let c = store
        .claim_watchers(UnixMillis(1_000), 1, lease, hub(1))
        .unwrap()
        .remove(0);
    assert_eq!(c.watcher.checks, 0);
    let memory =
        serde_json::json!({"pages": {"https://example.org/": {"hash": "ab", "lines": ["x"]}}});
    let mut ok = done(2_000, Some(memory.clone()), 62_000);
    ok.status.last_fired_at = Some(UnixMillis(2_000));
    assert!(store.finish_check(w.id, c.ticket, ok).unwrap());
    drop(store);

    let store = b.open();
    let got = store.watcher(w.id).unwrap().unwrap();
    assert_eq!(got.memory, memory);
    assert_eq!(got.checks, 1);
    assert_eq!(got.status.last_check_at, Some(UnixMillis(2_000)));
    assert_eq!(got.status.last_fired_at, Some(UnixMillis(2_000)));
    assert_eq!(got.status.last_result.as_deref(), Some("no change"));
    assert_eq!(got.status.next_check_at, Some(UnixMillis(62_000)));

    // A failed check records its error and keeps what was remembered.
    let c = store
        .claim_watchers(UnixMillis(62_000), 1, lease, hub(1))
        .unwrap()
        .remove(0);
    assert_eq!(c.watcher.checks, 1);
    let mut failed = done(62_500, None, 122_000);
    failed.status.last_error = Some("HTTP 500".into());
    failed.status.consecutive_failures = 1;
    failed.status.last_fired_at = Some(UnixMillis(2_000));
    assert!(store.finish_check(w.id, c.ticket, failed).unwrap());
    let got = b.open().watcher(w.id).unwrap().unwrap();
    assert_eq!(got.memory, memory);
    assert_eq!(got.checks, 2);
    assert_eq!(got.status.consecutive_failures, 1);
    assert_eq!(got.status.last_error.as_deref(), Some("HTTP 500"));
}

pub fn paused_watchers_wait_and_a_new_spec_starts_over(b: &dyn Backend) {
    let store = b.open();
    let w = store
        .create_watcher(new_watcher("news", Some(0)), 10)
        .unwrap();
    let lease = Duration::from_secs(30);
    let paused = store
        .edit_watcher(w.id, WatcherEdit::Pause, UnixMillis(500))
        .unwrap()
        .unwrap();
    assert_eq!(paused.state, WatcherState::Paused);
    assert!(
        store
            .claim_watchers(UnixMillis(1_000), 10, lease, hub(1))
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.next_watcher_due().unwrap(), None);
    store
        .edit_watcher(
            w.id,
            WatcherEdit::Resume {
                next_check_at: Some(UnixMillis(2_000)),
            },
            UnixMillis(1_500),
        )
        .unwrap()
        .unwrap();
    let c = store
        .claim_watchers(UnixMillis(2_000), 10, lease, hub(1))
        .unwrap()
        .remove(0);
    assert!(
        store
            .finish_check(
                w.id,
                c.ticket,
                done(2_100, Some(serde_json::json!({"v": 1})), 3_000)
            )
            .unwrap()
    );
    let c = store
        .claim_watchers(UnixMillis(3_000), 10, lease, hub(1))
        .unwrap()
        .remove(0);
    // Edited while its check is in flight: the check's outcome is dropped,
    // the memory forgotten, and the new spec is due at once.
    let spec = serde_json::json!({"name": "news", "kind": "feed"});
    let edited = store
        .edit_watcher(
            w.id,
            WatcherEdit::Spec {
                kind: "feed".into(),
                spec: spec.clone(),
                next_check_at: Some(UnixMillis(3_100)),
            },
            UnixMillis(3_050),
        )
        .unwrap()
        .unwrap();
    assert_eq!(edited.kind, "feed");
    assert_eq!(edited.spec, spec);
    assert_eq!(edited.memory, serde_json::Value::Null);
    assert!(
        !store
            .finish_check(
                w.id,
                c.ticket,
                done(3_200, Some(serde_json::json!({"v": 2})), 9_000)
            )
            .unwrap()
    );
    let again = store
        .claim_watchers(UnixMillis(3_100), 10, lease, hub(2))
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].watcher.memory, serde_json::Value::Null);
    assert!(
        store
            .edit_watcher(WatcherId(9_999), WatcherEdit::Pause, UnixMillis(0))
            .unwrap()
            .is_none()
    );
}

pub fn events_name_the_watcher_that_raised_them(b: &dyn Backend) {
    let store = b.open();
    let w = store.create_watcher(new_watcher("news", None), 10).unwrap();
    let mut ev = send("page changed", &["ops"], Some("watcher-1-0-0"));
    ev.source = Source::Watcher;
    ev.watcher = Some(w.id);
    let a = store.append(ev).unwrap();
    store.append(send("by hand", &["ops"], None)).unwrap();
    let stored = store.event(a.event_id).unwrap().unwrap();
    assert_eq!(stored.source, Source::Watcher);
    assert_eq!(stored.watcher, Some(w.id));
    let mine = store
        .events(&EventQuery {
            watcher: Some(w.id),
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, a.event_id);
    assert_eq!(
        store
            .events(&EventQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap()
            .len(),
        2
    );
}

pub fn a_hub_claims_only_the_channels_it_has(b: &dyn Backend) {
    let store = b.open();
    store.append(send("a", &["legacy"], None)).unwrap();
    store.append(send("b", &["ops", "dev"], None)).unwrap();
    let claim = |owner: u32, only: Option<&[&str]>| {
        store
            .claim(&ClaimRequest {
                now: UnixMillis(2_000),
                limit: 10,
                lease: Duration::from_secs(60),
                owner: hub(owner),
                scope: ClaimScope::All,
                room: Room::default(),
                only: only.map(|names| names.iter().map(|n| ch(n)).collect()),
            })
            .unwrap()
            .into_iter()
            .map(|c| c.channel.as_str().to_string())
            .collect::<Vec<_>>()
    };
    // The oldest row (legacy) is nobody's here: it neither goes to a hub
    // without the channel nor takes the place of the rows that hub has.
    assert_eq!(claim(1, Some(&["ops"])), ["ops"]);
    assert_eq!(claim(2, Some(&["dev", "ops"])), ["dev"]);
    assert!(claim(2, Some(&["dev", "ops"])).is_empty());
    assert!(claim(3, Some(&[])).is_empty());
    assert_eq!(claim(4, None), ["legacy"]);
}

fn question(channels: &[&str]) -> NewAsk {
    NewAsk {
        question: Question {
            question: "Deploy v2 to prod?".into(),
            choices: vec!["yes".into(), "no".into()],
            default: Some("no".into()),
            channels: channels.iter().map(|c| ch(c)).collect(),
            run_id: Some(RunId("deploy-7".into())),
        },
        deadline: UnixMillis(60_000),
        at: UnixMillis(1_000),
    }
}

fn answer(text: &str, channel: Option<&str>, at: i64) -> Answer {
    Answer {
        text: text.into(),
        by: "reply link".into(),
        channel: channel.map(ch),
        at: UnixMillis(at),
    }
}

pub fn a_question_is_decided_by_its_first_answer_only(b: &dyn Backend) {
    let store = b.open();
    let asked = store.create_ask(question(&["ops", "phone"])).unwrap();
    let other = store.create_ask(question(&["ops"])).unwrap();
    assert_ne!(asked.id, other.id);
    assert_eq!(asked.state, AskState::Open);
    assert_eq!(asked.answer, None);
    assert_eq!(asked.question, question(&["ops", "phone"]).question);
    assert_eq!(
        store
            .open_asks(10)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        [asked.id, other.id]
    );

    let first = answer("yes", Some("phone"), 2_000);
    let Some(Answering::Accepted(decided)) = store.answer_ask(asked.id, first.clone()).unwrap()
    else {
        panic!("the first answer must decide the question");
    };
    assert_eq!(decided.state, AskState::Answered);
    assert_eq!(decided.answer.as_ref(), Some(&first));
    assert_eq!(decided.closed_at, Some(UnixMillis(2_000)));

    // A second answer, from another channel: recorded nowhere, decides nothing.
    let Some(Answering::Late(after)) = store
        .answer_ask(asked.id, answer("no", Some("ops"), 2_500))
        .unwrap()
    else {
        panic!("a second answer must come too late");
    };
    assert_eq!(after.answer.as_ref(), Some(&first));

    // After its deadline, an open question takes no answer either.
    let Some(Answering::Late(late)) = store
        .answer_ask(other.id, answer("yes", None, 60_000))
        .unwrap()
    else {
        panic!("an answer at the deadline must come too late");
    };
    assert_eq!(late.state, AskState::Open);
    assert_eq!(late.answer, None);
    assert_eq!(store.answer_ask(AskId(9_999), first).unwrap(), None);

    // What a restarted process reads.
    let again = b.open();
    assert_eq!(again.ask(asked.id).unwrap(), Some(decided));
    assert_eq!(
        again
            .open_asks(10)
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect::<Vec<_>>(),
        [other.id]
    );
}

pub fn a_question_closes_once_and_every_hub_shares_the_reply_key(b: &dyn Backend) {
    let store = b.open();
    let asked = store.create_ask(question(&["ops"])).unwrap();
    let closed = store
        .close_ask(asked.id, AskState::TimedOut, UnixMillis(60_000))
        .unwrap()
        .unwrap();
    assert_eq!(closed.state, AskState::TimedOut);
    assert_eq!(closed.closed_at, Some(UnixMillis(60_000)));
    // Closing again (a cancel racing the timeout) leaves it as it was.
    let still = store
        .close_ask(asked.id, AskState::Cancelled, UnixMillis(61_000))
        .unwrap()
        .unwrap();
    assert_eq!(still, closed);
    assert_eq!(
        store
            .close_ask(AskId(9_999), AskState::Cancelled, UnixMillis(1))
            .unwrap(),
        None
    );
    // An answered question is not closed by a timeout that comes after.
    let answered = store.create_ask(question(&["ops"])).unwrap();
    store
        .answer_ask(answered.id, answer("no", Some("ops"), 5_000))
        .unwrap();
    let after = store
        .close_ask(answered.id, AskState::TimedOut, UnixMillis(60_000))
        .unwrap()
        .unwrap();
    assert_eq!(after.state, AskState::Answered);

    let key = store.reply_key().unwrap();
    assert_eq!(key.len(), 32);
    assert_eq!(store.reply_key().unwrap(), key);
    assert_eq!(
        b.open().reply_key().unwrap(),
        key,
        "another hub, the same key"
    );
}
