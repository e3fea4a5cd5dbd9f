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

async function api(path) {
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const r = await fetch(path, { headers });
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
        ev.title ? ev.title + " — " : "",
        ev.message
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

function addFailure(m) {
  $("#failures").prepend(
    el(
      "li",
      { class: "failure" },
      el("span", { class: "time" }, time(m.at)),
      m.channel + " (event " + m.event_id + "): " + (m.state === "failed" ? "failed" : "will retry"),
      m.error ? " — " + m.error : ""
    )
  );
  $("#no-failures").hidden = true;
}

function handle(m) {
  if (m.type === "connection_ack") return;
  if (m.id != null && m.type === "event") lastId = Math.max(lastId || 0, m.id);
  let li;
  switch (m.type) {
    case "event":
      li = el(
        "li",
        {},
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, m.kind || "event"),
        m.title ? m.title + " — " : "",
        m.message || "",
        m.run_id ? " (" + m.run_id + ")" : ""
      );
      if (m.run_id) refreshRunsSoon();
      break;
    case "delivery": {
      const bad = m.state === "failed" || (m.state === "pending" && m.error);
      li = el(
        "li",
        { class: bad ? "failure" : "" },
        el("span", { class: "time" }, time(m.at)),
        el("span", { class: "tag" }, "delivery"),
        m.channel + ": " + m.state + " in " + m.elapsed_ms + " ms",
        m.error ? " — " + m.error : ""
      );
      if (bad) addFailure(m);
      refreshRunsSoon();
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
    ...c.plugins.map((p) =>
      el("tr", {}, el("td", {}, p.id), el("td", {}, p.version), el("td", {}, typeof p.source === "string" ? p.source : JSON.stringify(p.source)), hosts(p.allowed_hosts))
    )
  );
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

loadRuns();
loadChannels();
connect();
