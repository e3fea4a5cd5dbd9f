//! Wake-ups and live messages across hubs that share one PostgreSQL
//! database, over its `LISTEN`/`NOTIFY`: an event accepted by hub A wakes
//! hub B's worker (B may hold the free slots, or the only process with the
//! channel), and a stream client connected to B sees A's events and
//! outcomes live. Each hub still hears its own messages in-process first;
//! the database only carries them to the others.
//!
//! Live messages are news, not the record: the log is. While the database
//! cannot be reached, messages for other hubs are dropped (a stream client
//! catches up with `since=`, a worker at its next look at the outbox), and
//! after a reconnection every hub is woken once, so that nothing waits for
//! a wake-up sent during the outage.
//!
//! A notification's payload must stay under PostgreSQL's 8,000 bytes: an
//! event whose title and message do not fit travels with them cut shorter
//! than the local [`MESSAGE_PREVIEW`](super::MESSAGE_PREVIEW).

use super::live::{Live, LiveBus, LocalLive};
use super::wake::{LocalWakeup, Wakeup, Woken};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, Config, NoTls};

/// The `LISTEN` channel every hub of one database shares.
const CHANNEL: &str = "mcp_push_signals";

/// PostgreSQL refuses payloads of 8,000 bytes or more; room for the envelope.
const MAX_PAYLOAD: usize = 7_900;

/// Messages for other hubs waiting to be sent; past this, news is dropped
/// (the database is too slow or gone) rather than held without bound.
const BACKLOG: usize = 4_096;

/// Reconnection backoff: from the first to the longest pause.
const FIRST_PAUSE: Duration = Duration::from_millis(200);
const LONGEST_PAUSE: Duration = Duration::from_secs(10);

/// What travels between hubs.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    /// The hub that sent it, so it can ignore its own.
    from: u64,
    #[serde(flatten)]
    body: Body,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Body {
    /// Something may be due: look at the outbox.
    Wake,
    /// An event or a delivery outcome (it also wakes: it may free or add work).
    Live(Live),
}

/// The two signals a hub needs, both fed by one connection that listens and
/// one that notifies.
pub struct PgSignals {
    pub wakeup: Box<dyn Wakeup>,
    pub live: Box<dyn LiveBus>,
}

impl PgSignals {
    /// Starts at once and connects in the background (on the current tokio
    /// runtime): a hub must not wait for its signals, and they come back by
    /// themselves after an outage. `config` is the store's own database.
    pub fn start(config: Config) -> PgSignals {
        let (out, rx) = mpsc::channel(BACKLOG);
        let shared = Arc::new(Shared {
            id: rand::random(),
            wake: LocalWakeup::default(),
            live: LocalLive::default(),
            out,
        });
        tokio::spawn(run(config, shared.clone(), rx));
        PgSignals {
            wakeup: Box::new(Signals(shared.clone())),
            live: Box::new(Signals(shared)),
        }
    }
}

struct Shared {
    id: u64,
    wake: LocalWakeup,
    live: LocalLive,
    out: mpsc::Sender<Body>,
}

impl Shared {
    fn tell_others(&self, body: Body) {
        // Full or closed: the others catch up from the log.
        let _ = self.out.try_send(body);
    }

    /// A message from another hub.
    fn heard(&self, payload: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope>(payload) else {
            tracing::debug!("ignoring a notification on {CHANNEL} that is not mcp-push's");
            return;
        };
        if envelope.from == self.id {
            return;
        }
        self.wake.wake();
        if let Body::Live(msg) = envelope.body {
            self.live.publish(msg);
        }
    }
}

/// Both roles on one shared state.
struct Signals(Arc<Shared>);

impl Wakeup for Signals {
    fn wake(&self) {
        self.0.wake.wake();
        self.0.tell_others(Body::Wake);
    }

    fn woken(&self) -> Woken<'_> {
        self.0.wake.woken()
    }
}

impl LiveBus for Signals {
    fn publish(&self, msg: Live) {
        // Tool calls and plugin reloads are this hub's own business.
        if matches!(msg, Live::Event { .. } | Live::Delivery { .. }) {
            self.0.tell_others(Body::Live(msg.clone()));
        }
        self.0.live.publish(msg);
    }

    fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.0.live.subscribe()
    }
}

/// Connect, listen and send until the hub goes away, reconnecting with backoff.
async fn run(config: Config, shared: Arc<Shared>, mut rx: mpsc::Receiver<Body>) {
    let mut pause = FIRST_PAUSE;
    let mut reconnecting = false;
    loop {
        match session(&config, &shared, &mut rx, reconnecting).await {
            Ended::HubGone => return,
            Ended::Lost(e) => {
                tracing::warn!(
                    "signals between hubs lost ({e}); trying again in {} ms",
                    pause.as_millis()
                );
            }
        }
        reconnecting = true;
        // What others sent meanwhile is lost: look at the outbox anyway.
        shared.wake.wake();
        // Drop what queued up while the database was gone: stale news.
        while rx.try_recv().is_ok() {}
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

enum Ended {
    HubGone,
    Lost(String),
}

async fn session(
    config: &Config,
    shared: &Shared,
    rx: &mut mpsc::Receiver<Body>,
    reconnecting: bool,
) -> Ended {
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(c) => c,
        Err(e) => return Ended::Lost(e.to_string()),
    };
    // The connection yields the notifications; it must be polled to run at all.
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = heard_tx.send(Ok(n.payload().to_string()));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = heard_tx.send(Err(e.to_string()));
                    return;
                }
            }
        }
        let _ = heard_tx.send(Err("the database closed the connection".into()));
    });
    let ended = async {
        if let Err(e) = client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
            return Ended::Lost(e.to_string());
        }
        if reconnecting {
            tracing::info!("signals between hubs are back");
            // Others may have missed this hub's wake-ups meanwhile.
            if let Err(e) = notify(&client, shared.id, vec![Body::Wake]).await {
                return Ended::Lost(e);
            }
        }
        loop {
            tokio::select! {
                got = rx.recv() => {
                    let Some(first) = got else { return Ended::HubGone };
                    let mut batch = vec![first];
                    while let Ok(more) = rx.try_recv() {
                        batch.push(more);
                    }
                    if let Err(e) = notify(&client, shared.id, batch).await {
                        return Ended::Lost(e);
                    }
                }
                got = heard.recv() => match got {
                    Some(Ok(payload)) => shared.heard(&payload),
                    Some(Err(e)) => return Ended::Lost(e),
                    None => return Ended::Lost("the connection ended".into()),
                },
            }
        }
    }
    .await;
    driver.abort();
    ended
}

/// Send a batch in one round trip. Live messages wake the others too, so a
/// plain wake-up goes out only when the batch has no event in it.
async fn notify(
    client: &tokio_postgres::Client,
    from: u64,
    batch: Vec<Body>,
) -> Result<(), String> {
    let wakes = batch.iter().any(|b| matches!(b, Body::Wake));
    let mut payloads: Vec<String> = batch
        .into_iter()
        .filter_map(|body| match body {
            Body::Wake => None,
            Body::Live(msg) => fit(from, msg),
        })
        .collect();
    if wakes && payloads.is_empty() {
        payloads.push(payload(from, Body::Wake));
    }
    if payloads.is_empty() {
        return Ok(());
    }
    // One statement: NOTIFY's payloads are delivered in order, once each.
    let sent = client
        .execute(
            "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p",
            &[&CHANNEL, &payloads],
        )
        .await;
    sent.map(|_| ()).map_err(|e| e.to_string())
}

fn payload(from: u64, body: Body) -> String {
    serde_json::to_string(&Envelope { from, body }).unwrap_or_default()
}

/// The message as a payload PostgreSQL accepts: an event's title and message
/// are cut (by characters, halving) until it fits. `None` when even that
/// cannot make it fit.
fn fit(from: u64, msg: Live) -> Option<String> {
    let mut msg = msg;
    loop {
        let text = payload(from, Body::Live(msg.clone()));
        if text.len() < MAX_PAYLOAD {
            return Some(text);
        }
        let Live::Event { title, message, .. } = &mut msg else {
            return None;
        };
        if title.is_empty() && message.is_empty() {
            return None;
        }
        for s in [title, message] {
            let keep = s.chars().count() / 2;
            *s = s.chars().take(keep).collect();
        }
    }
}

#[cfg(test)]
mod tests;
