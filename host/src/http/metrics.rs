//! `/metrics`: the Prometheus text format (version 0.0.4), written by the
//! `prometheus` crate. Counters are fed by a task that listens to the hub's
//! live messages, so nothing on the delivery path waits for them.

use super::AppState;
use crate::hub::{Live, ToolPhase};
use crate::notification::ChannelId;
use crate::ops::names as tools;
use crate::store::{DeliveryState, Source};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::core::Collector;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, TextEncoder,
};
use tokio::sync::broadcast;

/// Upper bounds of the delivery latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What `/metrics` answers with; scrapers pick the parser by it.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The tool label of a call to a tool that does not exist: the name comes
/// from the client, and one series per made-up name would grow without end.
const UNKNOWN_TOOL: &str = "unknown";

pub struct Metrics {
    events: IntCounterVec,
    deliveries: IntCounterVec,
    latency: Histogram,
    traps: IntCounterVec,
    tools: IntCounterVec,
    stream_clients: IntGauge,
    missed: IntCounter,
    store_bytes: IntGauge,
    store_events: IntGauge,
    store_oldest: IntGauge,
}

fn gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("a valid metric name")
}

fn counters(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    // The names and labels are the constants below, all valid.
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric name and labels")
}

impl Metrics {
    /// Every series a scrape can know of from the start is written at zero:
    /// each source's events, each channel's outcomes and traps, each tool's
    /// calls. A family without a series is not written at all, and
    /// Prometheus sees an increase only from a series it saw before.
    pub fn new(channels: &[ChannelId]) -> Metrics {
        let m = Metrics {
            events: counters(
                "mcp_push_events_total",
                "Events written to the log, by source.",
                &["source"],
            ),
            deliveries: counters(
                "mcp_push_deliveries_total",
                "Delivery attempts ended, by channel and outcome (sent, failed, pending = retry \
                 scheduled, skipped, coalesced).",
                &["channel", "outcome"],
            ),
            latency: Histogram::with_opts(
                HistogramOpts::new(
                    "mcp_push_delivery_duration_seconds",
                    "Time from a delivery's claim to its recorded outcome.",
                )
                .buckets(BUCKETS.to_vec()),
            )
            .expect("valid buckets"),
            traps: counters(
                "mcp_push_plugin_traps_total",
                "Sends that ended in a plugin trap, by channel.",
                &["channel"],
            ),
            tools: counters(
                "mcp_push_tool_calls_total",
                "MCP tool calls, by tool and outcome.",
                &["tool", "outcome"],
            ),
            stream_clients: IntGauge::new(
                "mcp_push_stream_clients",
                "WebSocket clients connected to /v1/stream.",
            )
            .expect("a valid metric name"),
            missed: IntCounter::new(
                "mcp_push_metrics_missed_total",
                "Live messages these metrics missed (the counting task fell behind).",
            )
            .expect("a valid metric name"),
            store_bytes: gauge(
                "mcp_push_store_bytes",
                "Size of the event store on disk (the database file and its write-ahead log).",
            ),
            store_events: gauge("mcp_push_store_events", "Events in the store."),
            store_oldest: gauge(
                "mcp_push_store_oldest_event_timestamp_seconds",
                "When the oldest event in the store was written (Unix time; 0 when empty).",
            ),
        };
        for source in Source::ALL {
            m.events.with_label_values(&[source.as_str()]);
        }
        for channel in channels {
            for outcome in DeliveryState::ALL {
                m.deliveries
                    .with_label_values(&[channel.as_str(), outcome.as_str()]);
            }
            m.traps.with_label_values(&[channel.as_str()]);
        }
        for tool in tools::NAMES {
            for outcome in ["success", "error"] {
                m.tools.with_label_values(&[tool, outcome]);
            }
        }
        m
    }

    /// Count what the hub says until it closes.
    pub async fn watch(&self, mut live: broadcast::Receiver<Live>) {
        loop {
            match live.recv().await {
                Ok(msg) => self.count(&msg),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed.inc_by(n),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn count(&self, msg: &Live) {
        match msg {
            Live::Event { source, .. } => self.events.with_label_values(&[source.as_str()]).inc(),
            Live::Delivery {
                channel,
                state,
                elapsed_ms,
                trapped,
                ..
            } => {
                self.deliveries
                    .with_label_values(&[channel.as_str(), state.as_str()])
                    .inc();
                self.latency.observe(*elapsed_ms as f64 / 1000.0);
                if *trapped {
                    self.traps.with_label_values(&[channel.as_str()]).inc();
                }
            }
            Live::ToolExecution { tool, phase, .. } => {
                let outcome = match phase {
                    ToolPhase::Started => return,
                    ToolPhase::Success => "success",
                    ToolPhase::Error => "error",
                };
                let tool = tools::NAMES
                    .into_iter()
                    .find(|t| *t == tool.as_str())
                    .unwrap_or(UNKNOWN_TOOL);
                self.tools.with_label_values(&[tool, outcome]).inc();
            }
            Live::Plugin { .. } | Live::Ask { .. } | Live::Reply { .. } => {}
        }
    }

    pub fn stream_connected(&self) {
        self.stream_clients.inc();
    }

    pub fn stream_disconnected(&self) {
        self.stream_clients.dec();
    }

    /// The text exposition, secrets redacted (a channel name is the user's).
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let collectors: [&dyn Collector; 10] = [
            &self.events,
            &self.deliveries,
            &self.latency,
            &self.traps,
            &self.tools,
            &self.stream_clients,
            &self.missed,
            &self.store_bytes,
            &self.store_events,
            &self.store_oldest,
        ];
        // A family with no series yet (no channel configured) is left out:
        // the encoder refuses one.
        let families: Vec<_> = collectors
            .iter()
            .flat_map(|c| c.collect())
            .filter(|f| !f.get_metric().is_empty())
            .collect();
        let mut out = Vec::new();
        TextEncoder::new().encode(&families, &mut out)?;
        Ok(crate::redact::redact(&String::from_utf8_lossy(&out)))
    }
}

/// The store's size, read at each scrape (a count over the events index:
/// milliseconds for a million events).
pub fn set_store(metrics: &Metrics, size: &crate::store::StoreSize) {
    metrics.store_bytes.set(size.bytes as i64);
    metrics.store_events.set(size.events as i64);
    metrics
        .store_oldest
        .set(size.oldest_event_at.map_or(0, |t| t.0 / 1000));
}

pub async fn handler(State(state): State<AppState>) -> Response {
    let store = state.hub().store().clone();
    match crate::hub::blocking(move || store.size()).await {
        Ok(size) => set_store(&state.metrics, &size),
        Err(e) => tracing::warn!("metrics: cannot read the store's size: {e}"),
    }
    match state.metrics.render() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the metrics: {e}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(name: &str) -> ChannelId {
        ChannelId::new(name).unwrap()
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn known_series_start_at_zero_and_families_keep_their_names_and_types() {
        let text = Metrics::new(&[ch("ops")]).render().unwrap();
        for family in [
            "# TYPE mcp_push_events_total counter",
            "# TYPE mcp_push_deliveries_total counter",
            "# TYPE mcp_push_delivery_duration_seconds histogram",
            "# TYPE mcp_push_plugin_traps_total counter",
            "# TYPE mcp_push_tool_calls_total counter",
            "# TYPE mcp_push_stream_clients gauge",
            "# TYPE mcp_push_metrics_missed_total counter",
        ] {
            assert!(text.contains(family), "{family} missing:\n{text}");
        }
        for series in [
            "mcp_push_events_total{source=\"watcher\"}",
            "mcp_push_deliveries_total{channel=\"ops\",outcome=\"coalesced\"}",
            "mcp_push_plugin_traps_total{channel=\"ops\"}",
            "mcp_push_tool_calls_total{outcome=\"error\",tool=\"notify_send\"}",
            "mcp_push_delivery_duration_seconds_bucket{le=\"30\"}",
            "mcp_push_stream_clients",
        ] {
            assert_eq!(value(&text, series), Some(0.0), "{series}:\n{text}");
        }
    }

    #[test]
    fn outcomes_latency_and_made_up_tools_are_counted() {
        let m = Metrics::new(&[]);
        let delivery = |channel: &str, state, elapsed_ms, trapped| Live::Delivery {
            delivery_id: crate::store::DeliveryId(1),
            event_id: crate::store::EventId(1),
            channel: ch(channel),
            state,
            attempts: 1,
            error: None,
            remote_id: None,
            next_attempt_at: None,
            elapsed_ms,
            trapped,
            at: crate::store::UnixMillis(0),
        };
        m.count(&delivery("a_b", DeliveryState::Sent, 20, false));
        m.count(&delivery("t", DeliveryState::Failed, 3_000, true));
        m.count(&Live::ToolExecution {
            tool: "no\nsuch".into(),
            phase: ToolPhase::Error,
            arguments: serde_json::Value::Null,
            duration_ms: None,
            error: None,
            at: crate::store::UnixMillis(0),
        });
        let text = m.render().unwrap();
        let want = [
            (
                "mcp_push_deliveries_total{channel=\"a_b\",outcome=\"sent\"}",
                1.0,
            ),
            ("mcp_push_plugin_traps_total{channel=\"t\"}", 1.0),
            (
                "mcp_push_delivery_duration_seconds_bucket{le=\"0.025\"}",
                1.0,
            ),
            ("mcp_push_delivery_duration_seconds_bucket{le=\"5\"}", 2.0),
            ("mcp_push_delivery_duration_seconds_count", 2.0),
            ("mcp_push_delivery_duration_seconds_sum", 3.02),
            (
                "mcp_push_tool_calls_total{outcome=\"error\",tool=\"unknown\"}",
                1.0,
            ),
        ];
        for (series, n) in want {
            assert_eq!(value(&text, series), Some(n), "{series}:\n{text}");
        }
    }
}
