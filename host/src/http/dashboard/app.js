// mcp-push dashboard: reads the REST API, follows /v1/stream, reconnects
// with since= the last event id it saw. No build step, no dependencies.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || sessionStorage.getItem("mcp-push-token") || "";
if (params.has("token")) {
  sessionStorage.setItem("mcp-push-token", token);
  history.replaceState(null, "", location.pathname); // keep the token out of the address bar
}

const $ = (sel) => document.querySelector(sel);
let lastId = null;
let runs = [];
let openRun = null;
let backoff = 500;
// Event titles by event id, so that delivery rows can say what they carried.
const titles = new Map();
// Watcher names by id, for the live feed.
const watcherNames = new Map();
// How many of the newest events the page shows when it opens.
const FIRST_PAGE = 20;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c == null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path, method, payload) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const init = { method: method || "GET", headers };
  if (payload !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(payload);
  }
  const r = await fetch(path, init);
  const body = await r.json();
  if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
  return body;
}

function time(at) {
  return at ? new Date(at).toLocaleTimeString() : "";
}

function duration(run) {
  let ms = run.duration_ms;
  if (ms == null && run.status === "running") ms = Date.now() - new Date(run.started_at).getTime();
  if (ms == null) return "";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + String(s % 60).padStart(2, "0") + "s";
  return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
}

function bar(progress) {
  if (progress == null) return "";
  const pct = Math.round(progress * 100);
  const b = el("div", { class: "bar", title: pct + "%" }, el("span"));
  b.firstChild.style.width = pct + "%";
  return el("span", {}, b, " " + pct + "%");
}

function renderRuns() {
  const body = $("#runs tbody");
  body.replaceChildren(
    ...runs.map((r) => {
      const status = r.status + (r.error_code ? " (" + r.error_code + ")" : "");
      const tr = el(
        "tr",
        { class: "run", "data-run": r.run_id },
        el("td", {}, r.run_id),
        el("td", { class: "status " + r.status }, status),
        el("td", {}, bar(r.progress)),
        el("td", {}, r.step || ""),
        el("td", { class: "duration" }, duration(r)),
        el("td", {}, r.preview || "")
      );
      tr.addEventListener("click", () => showRun(r.run_id));
      return tr;
    })
  );
  $("#no-runs").hidden = runs.length > 0;
}

async function loadRuns() {
  try {
    runs = (await api("/v1/runs?limit=50")).runs;
    renderRuns();
  } catch (e) {
    console.warn("runs:", e);
  }
}

let runsTimer = null;
function refreshRunsSoon() {
  clearTimeout(runsTimer);
  runsTimer = setTimeout(() => {
    loadRuns();
    if (openRun) showRun(openRun);
  }, 250);
}

async function showRun(runId) {
  openRun = runId;
  let detail;
  try {
    detail = await api("/v1/runs/" + encodeURIComponent(runId));
  } catch (e) {
    console.warn("run:", e);
    return;
  }
  $("#timeline-run").textContent = runId + " — " + detail.run.status;
  $("#timeline").replaceChildren(
    ...detail.events.map((ev) => {
      const li = el(
        "li",
        {},
        el("span", { class: "time" }, time(ev.at)),
        el("span", { class: "tag" }, ev.kind || "event"),
        title(ev.title),
        msg(ev.message)
      );
      const ds = el("ul");
      for (const d of ev.deliveries) {
        ds.append(
          el(
            "li",
            { class: d.state === "failed" ? "failure" : "" },
            el("span", { class: "state " + d.state }, d.channel + ": " + d.state),
            d.attempts > 1 ? " after " + d.attempts + " attempts" : "",
            d.last_error ? " — " + d.last_error : ""
          )
        );
      }
      li.append(ds);
      return li;
    })
  );
  $("#timeline-section").hidden = false;
}

function addLive(li) {
  const list = $("#live");
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

// A title in bold, followed by a dash when there is more to say.
function title(t) {
  return t ? el("span", { class: "title" }, t + " — ") : "";
}

// A message with its line breaks kept (text, never HTML).
function msg(text) {
  return text ? el("span", { class: "msg" }, text) : "";
}

// One failure row per delivery: a newer report of the same delivery replaces it.
function addFailure(f) {
  const old = document.querySelector('#failures li[data-delivery="' + f.delivery_id + '"]');
  const retry = el("button", { class: "retry", type: "button" }, "retry");
  retry.addEventListener("click", () => retryDelivery(f.delivery_id, li, retry));
  const li = el(
    "li",
    { class: "failure", "data-delivery": f.delivery_id },
    el("span", { class: "time" }, time(f.at)),
    title(f.title || titles.get(f.event_id)),
    f.channel + " (event " + f.event_id + "): ",
    el("span", { class: "outcome" }, f.state === "failed" ? "failed" : "will retry"),
    f.error ? el("span", { class: "msg" }, " — " + f.error) : "",
    retry
  );
  if (old) old.replaceWith(li);
  else $("#failures").prepend(li);
  $("#no-failures").hidden = true;
}

// A delivery the page lists as failed was sent (after a retry, say).
function resolveFailure(m) {
  const li = document.querySelector('#failures li[data-delivery="' + m.delivery_id + '"]');
  if (!li) return;
  li.className = "resolved";
  li.querySelector(".outcome").textContent = "sent on retry";
  const b = li.querySelector("button.retry");
  if (b) b.remove();
}

async function retryDelivery(id, li, button) {
  button.disabled = true;
  try {
    const d = await api("/v1/deliveries/" + encodeURIComponent(id) + "/retry", "POST");
    // The stream may have reported the send before this answer came.
    if (li.classList.contains("resolved")) return;
    li.querySelector(".outcome").textContent = d.state === "pending" ? "retrying…" : d.state;
  } catch (e) {
    // Say why (already sent, being sent right now) and let the person try again.
    li.querySelector(".outcome").textContent = "retry refused: " + e.message;
    button.disabled = false;
  }
}

// Failed deliveries already in the store, oldest first so the newest ends on top.
async function loadFailures() {
  let list;
  try {
    list = (await api("/v1/deliveries?state=failed&limit=50")).deliveries;
  } catch (e) {
    console.warn("failures:", e);
    return;
  }
  for (const d of list.reverse()) {
    if (d.title != null) titles.set(d.event_id, d.title);
    addFailure({
      delivery_id: d.id,
      event_id: d.event_id,
      channel: d.channel,
      state: d.state,
      error: d.last_error,
      title: d.title,
      at: d.updated_at,
    });
  }
}

// The newest event id the store has, read off the newest delivery (every
// event has a delivery row, even a skipped one): the stream then replays the
// last FIRST_PAGE events, so the live feed does not open empty.
async function firstPageStart() {
  try {
    const newest = (await api("/v1/deliveries?limit=1")).deliveries[0];
    return newest ? Math.max(0, newest.event_id - FIRST_PAGE) : null;
  } catch (e) {
    console.warn("deliveries:", e);
    return null;
  }
}

// A time with its date when it is not today (a next check may be days away).
function when(at) {
  if (!at) return "";
  const d = new Date(at);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}

function watcherRow(w) {
  const paused = w.state === "paused";
  const toggle = el("button", { class: paused ? "resume" : "pause", type: "button" }, paused ? "resume" : "pause");
  toggle.addEventListener("click", () => toggleWatcher(w, toggle));
  const failing = w.consecutive_failures > 0;
  return el(
    "tr",
    { class: "watcher" + (failing ? " failure" : ""), "data-watcher": w.name },
    el("td", {}, w.name, w.origin === "file" ? el("span", { class: "muted" }, " (config file)") : ""),
    el("td", {}, w.kind),
    el("td", { class: "state" }, w.state),
    el("td", {}, when(w.last_check_at), w.last_result ? el("span", { class: "muted" }, " " + w.last_result) : ""),
    el("td", {}, paused ? "" : when(w.next_check_at)),
    el("td", {}, when(w.last_fired_at)),
    el("td", { class: "error" }, w.last_error ? w.last_error + (failing ? " (" + w.consecutive_failures + "× in a row)" : "") : ""),
    el("td", {}, toggle)
  );
}

async function loadWatchers() {
  let list;
  try {
    list = (await api("/v1/watchers")).watchers;
  } catch (e) {
    $("#watchers tbody").replaceChildren();
    $("#no-watchers").textContent = "Watchers are unavailable: " + e.message;
    $("#no-watchers").hidden = false;
    return;
  }
  for (const w of list) watcherNames.set(w.id, w.name);
  $("#watchers tbody").replaceChildren(...list.map(watcherRow));
  $("#no-watchers").hidden = list.length > 0;
}

// The open questions, each with a button per choice (or a text box): an
// answer from here is the API's, by "dashboard".
function askItem(a) {
  const say = async (answer, controls) => {
    controls.forEach((c) => (c.disabled = true));
    try {
      await api("/v1/asks/" + a.ask_id + "/answer", "POST", { answer, by: "dashboard" });
    } catch (e) {
      li.append(el("span", { class: "error" }, " " + e.message));
    }
    loadAsks();
  };
  let controls;
  if (a.choices.length) {
    controls = a.choices.map((c) => el("button", { type: "button", class: "choice" }, c));
    controls.forEach((b, i) => b.addEventListener("click", () => say(a.choices[i], controls)));
  } else {
    const input = el("input", { type: "text", maxlength: "2000", "aria-label": "Your answer" });
    const send = el("button", { type: "button" }, "answer");
    controls = [input, send];
    send.addEventListener("click", () => input.value.trim() && say(input.value, controls));
  }
  const li = el(
    "li",
    { class: "ask", "data-ask": String(a.ask_id) },
    el("span", { class: "question" }, a.question),
    el("span", { class: "muted" }, " (until " + when(a.deadline) + ") "),
    ...controls
  );
  return li;
}

async function loadAsks() {
  let list;
  try {
    list = (await api("/v1/asks")).asks;
  } catch (e) {
    console.warn("asks:", e);
    return;
  }
  $("#asks").replaceChildren(...list.map(askItem));
  $("#no-asks").hidden = list.length > 0;
}

let watchersTimer = null;
function refreshWatchersSoon() {
  if (watchersTimer) return;
  watchersTimer = setTimeout(() => {
    watchersTimer = null;
    loadWatchers();
  }, 300);
}

async function toggleWatcher(w, button) {
  button.disabled = true;
  const action = w.state === "paused" ? "resume" : "pause";
  try {
    const now = await api("/v1/watchers/" + encodeURIComponent(w.id) + "/" + action, "POST");
    document.querySelector('#watchers tr[data-watcher="' + CSS.escape(w.name) + '"]').replaceWith(watcherRow(now));
  } catch (e) {
    button.textContent = action + " refused: " + e.message;
    button.disabled = false;
  }
}

// Bars per channel: sent, retrying and failed, scaled to the busiest channel.
function renderStats(channels) {
  const shown = channels.filter((c) => c.sent + c.retrying + c.failed > 0);
  const max = Math.max(1, ...shown.map((c) => c.sent + c.retrying + c.failed));
  $("#stats").replaceChildren(
    ...shown.map((c) => {
      const bar = el("div", { class: "stat-bar" });
      for (const k of ["sent", "retrying", "failed"]) {
        const seg = el("span", { class: "seg-" + k, title: c[k] + " " + k });
        seg.style.width = (100 * c[k]) / max + "%";
        bar.append(seg);
      }
      const counts = [c.sent + " sent", c.retrying + " retrying", c.failed + " failed"].join(" · ");
      return el("div", { class: "stat", "data-channel": c.channel }, el("span", {}, c.channel), bar, el("span", { class: "stat-counts" }, counts));
    })
  );
  $("#no-stats").hidden = shown.length > 0;
}

async function loadStats() {
  try {
    renderStats((await api("/v1/deliveries/stats?window_secs=3600")).channels);
  } catch (e) {
    console.warn("stats:", e);
  }
}

let statsTimer = null;
function refreshStatsSoon() {
  clearTimeout(statsTimer);
  statsTimer = setTimeout(loadStats, 500);
}

// A delivery of an event from before the page's first page: its title
// comes from the API (once per event).
async function fillTitle(eventId, span) {
  try {
    if (!titles.has(eventId)) {
      const page = await api("/v1/events?since=" + (eventId - 1) + "&limit=1");
      const ev = (page.events || []).find((e) => e.id === eventId);
      titles.set(eventId, ev ? ev.notification.title : "");
    }
    const t = titles.get(eventId);
    if (t) span.textContent = t + " — ";
  } catch (e) {
    // The row stays without a title.
  }
}

function handle(m) {
  if (m.type === "connection_ack") return;
  if (m.id != null && m.type === "event") lastId = Math.max(lastId || 0, m.id);
  let li;
  switch (m.type) {
    case "event":
      titles.set(m.event_id, m.title);
      li = el(
        "li",
        {},
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, m.kind || "event"),
        title(m.title),
        msg(m.message),
        m.run_id ? " (" + m.run_id + ")" : "",
        m.watcher != null ? " (watcher " + (watcherNames.get(m.watcher) || m.watcher) + ")" : ""
      );
      if (m.run_id) refreshRunsSoon();
      if (m.watcher != null) refreshWatchersSoon();
      break;
    case "delivery": {
      const bad = m.state === "failed" || (m.state === "pending" && m.error);
      const known = titles.get(m.event_id);
      const heading = el("span", { class: "title" }, known ? known + " — " : "");
      if (known == null) fillTitle(m.event_id, heading);
      li = el(
        "li",
        { class: bad ? "failure" : "" },
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "delivery"),
        heading,
        m.channel + ": " + m.state + " in " + m.elapsed_ms + " ms",
        m.error ? el("span", { class: "msg" }, " — " + m.error) : ""
      );
      if (bad) addFailure(m);
      else if (m.state === "sent") resolveFailure(m);
      refreshRunsSoon();
      refreshStatsSoon();
      break;
    }
    case "tool_execution":
      li = el(
        "li",
        { class: m.phase === "error" ? "failure" : "" },
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "tool"),
        m.tool + " " + m.phase + (m.duration_ms != null ? " in " + m.duration_ms + " ms" : ""),
        m.error ? " — " + m.error : ""
      );
      break;
    case "ask":
      li = el(
        "li",
        {},
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "question"),
        m.question + " — " + m.state.replace("_", " ") + (m.answer ? ": " + m.answer : "")
      );
      loadAsks();
      break;
    case "reply":
      li = el(
        "li",
        { class: m.accepted ? "" : "failure" },
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "reply"),
        m.answer + " by " + m.by + (m.channel ? " on " + m.channel : "") + (m.accepted ? "" : " (too late)")
      );
      break;
    case "plugin":
      li = el(
        "li",
        { class: m.action === "failed" ? "failure" : "" },
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "plugin"),
        m.action + " " + m.plugin + (m.version ? " " + m.version : ""),
        m.detail ? " — " + m.detail : ""
      );
      loadChannels();
      break;
    default:
      return;
  }
  addLive(li);
}

function connect() {
  const q = new URLSearchParams();
  if (lastId != null) q.set("since", lastId);
  if (token) q.set("token", token);
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const qs = q.toString();
  const ws = new WebSocket(scheme + location.host + "/v1/stream" + (qs ? "?" + qs : ""));
  const conn = $("#conn");
  ws.onopen = () => {
    conn.textContent = "live";
    conn.className = "conn on";
    backoff = 500;
    loadRuns();
  };
  ws.onmessage = (e) => handle(JSON.parse(e.data));
  ws.onclose = (e) => {
    conn.textContent = "reconnecting…" + (e.reason ? " (" + e.reason + ")" : "");
    conn.className = "conn off";
    setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  };
}

function hosts(list) {
  return el("td", { class: "hosts" }, (list || []).map((h) => (typeof h === "string" ? h : JSON.stringify(h))).join(", "));
}

async function loadChannels() {
  let c;
  try {
    c = await api("/v1/channels");
  } catch (e) {
    console.warn("channels:", e);
    return;
  }
  $("#channels tbody").replaceChildren(
    ...c.channels.map((ch) => el("tr", {}, el("td", {}, ch.name), el("td", {}, ch.plugin), el("td", {}, ch.version), hosts(ch.allowed_hosts)))
  );
  $("#plugins tbody").replaceChildren(
    ...c.plugins.map((p) => el("tr", {}, el("td", {}, p.id), el("td", {}, p.version), el("td", { class: "source" }, source(p.source)), hosts(p.allowed_hosts)))
  );
  $("#plugin-count").textContent = c.plugins.length;
}

// `{"kind": "bundled"}` or `{"kind": "file", "path": ...}` in words.
function source(s) {
  if (s == null) return "";
  if (typeof s === "string") return s;
  return s.kind === "file" && s.path ? s.path : s.kind || JSON.stringify(s);
}

$("#timeline-close").addEventListener("click", () => {
  openRun = null;
  $("#timeline-section").hidden = true;
});
setInterval(() => {
  document.querySelectorAll("#runs tr.run").forEach((tr, i) => {
    if (runs[i] && runs[i].status === "running") tr.querySelector(".duration").textContent = duration(runs[i]);
  });
}, 1000);

// Everything already in the store first, then live from the stream.
async function start() {
  loadRuns();
  loadChannels();
  loadStats();
  loadWatchers();
  loadAsks();
  setInterval(loadStats, 60000); // the window slides even when nothing happens
  setInterval(loadWatchers, 30000); // checks that found nothing send no event
  setInterval(loadAsks, 30000); // a question past its deadline closes without news
  await loadFailures();
  lastId = await firstPageStart();
  connect();
}

start();
