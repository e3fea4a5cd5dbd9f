//! `/metrics`: Prometheus text exposition, hand-rolled. Counters are fed by a
//! task that listens to the hub's live messages, so nothing on the delivery
//! path waits for them.

use super::AppState;
use crate::hub::{Live, ToolPhase};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Upper bounds of the delivery latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
pub struct Metrics {
    events: Mutex<BTreeMap<String, u64>>,
    deliveries: Mutex<BTreeMap<(String, String), u64>>,
    traps: Mutex<BTreeMap<String, u64>>,
    tools: Mutex<BTreeMap<(String, String), u64>>,
    latency: Histogram,
    stream_clients: AtomicI64,
    missed: AtomicU64,
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Sum in microseconds (atomics hold integers).
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, seconds: f64) {
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Count what the hub says until it closes.
    pub async fn watch(&self, mut live: broadcast::Receiver<Live>) {
        loop {
            match live.recv().await {
                Ok(msg) => self.count(&msg),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.missed.fetch_add(n, Ordering::Relaxed);
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    fn count(&self, msg: &Live) {
        match msg {
            Live::Event { source, .. } => bump(&self.events, source.to_string()),
            Live::Delivery {
                channel,
                state,
                elapsed_ms,
                trapped,
                ..
            } => {
                bump(&self.deliveries, (channel.to_string(), state.to_string()));
                self.latency.observe(*elapsed_ms as f64 / 1000.0);
                if *trapped {
                    bump(&self.traps, channel.to_string());
                }
            }
            Live::ToolExecution { tool, phase, .. } => {
                let outcome = match phase {
                    ToolPhase::Started => return,
                    ToolPhase::Success => "success",
                    ToolPhase::Error => "error",
                };
                bump(&self.tools, (tool.clone(), outcome.to_string()));
            }
            Live::Plugin { .. } => {}
        }
    }

    pub fn stream_connected(&self) {
        self.stream_clients.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stream_disconnected(&self) {
        self.stream_clients.fetch_sub(1, Ordering::Relaxed);
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let lock =
            |m: &Mutex<BTreeMap<String, u64>>| m.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let _ = writeln!(
            out,
            "# HELP mcp_push_events_total Events written to the log, by source.\n\
             # TYPE mcp_push_events_total counter"
        );
        for (source, n) in lock(&self.events) {
            let _ = writeln!(
                out,
                "mcp_push_events_total{{source=\"{}\"}} {n}",
                label(&source)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcp_push_deliveries_total Delivery attempts ended, by channel and outcome \
             (sent, failed, pending = retry scheduled, skipped, coalesced).\n\
             # TYPE mcp_push_deliveries_total counter"
        );
        let deliveries = self
            .deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for ((channel, outcome), n) in deliveries {
            let _ = writeln!(
                out,
                "mcp_push_deliveries_total{{channel=\"{}\",outcome=\"{}\"}} {n}",
                label(&channel),
                label(&outcome)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcp_push_delivery_duration_seconds Time from a delivery's claim to its \
             recorded outcome.\n\
             # TYPE mcp_push_delivery_duration_seconds histogram"
        );
        for (i, le) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "mcp_push_delivery_duration_seconds_bucket{{le=\"{le}\"}} {}",
                self.latency.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "mcp_push_delivery_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             mcp_push_delivery_duration_seconds_sum {}\n\
             mcp_push_delivery_duration_seconds_count {count}",
            self.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP mcp_push_plugin_traps_total Sends that ended in a plugin trap, by channel.\n\
             # TYPE mcp_push_plugin_traps_total counter"
        );
        for (channel, n) in lock(&self.traps) {
            let _ = writeln!(
                out,
                "mcp_push_plugin_traps_total{{channel=\"{}\"}} {n}",
                label(&channel)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcp_push_tool_calls_total MCP tool calls, by tool and outcome.\n\
             # TYPE mcp_push_tool_calls_total counter"
        );
        let tools = self.tools.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for ((tool, outcome), n) in tools {
            let _ = writeln!(
                out,
                "mcp_push_tool_calls_total{{tool=\"{}\",outcome=\"{}\"}} {n}",
                label(&tool),
                label(&outcome)
            );
        }
        let _ = writeln!(
            out,
            "# HELP mcp_push_stream_clients WebSocket clients connected to /v1/stream.\n\
             # TYPE mcp_push_stream_clients gauge\n\
             mcp_push_stream_clients {}",
            self.stream_clients.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mcp_push_metrics_missed_total Live messages these metrics missed (the \
             counting task fell behind).\n\
             # TYPE mcp_push_metrics_missed_total counter\n\
             mcp_push_metrics_missed_total {}",
            self.missed.load(Ordering::Relaxed)
        );
        crate::redact::redact(&out)
    }
}

pub async fn handler(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
