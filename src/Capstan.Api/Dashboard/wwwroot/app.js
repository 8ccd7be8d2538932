// Capstan dashboard: polls the JSON API once a second and renders captures, table distribution,
// replication-set states, checkpoint lag over time, the scheduling timeline and the tables.
// No framework, no CDN; every value from the server is inserted with textContent.
"use strict";

const POLL_MS = 1000;
const HISTORY_POINTS = 300;
const STATES = ["Absent", "Prepare", "Commit", "Replicating", "Removing"];

const state = {
  changefeed: null,
  captures: [],
  tables: [],
  lag: new Map(), // changefeed -> [{t, lagMs}]
  lastEvent: 0,
  events: [],
  owner: "",
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function headers(json) {
  const result = json ? { "Content-Type": "application/json" } : {};
  const token = localStorage.getItem("capstan-token");
  if (token) result["Authorization"] = "Bearer " + token;
  return result;
}

async function api(path, options) {
  const response = await fetch(path, { ...options, headers: headers(options && options.body) });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const detail = body && (body.detail || body.title) ? body.detail || body.title : response.statusText;
    throw new Error(response.status + ": " + detail);
  }
  return body;
}

function showResult(message, ok) {
  const node = $("action-result");
  node.textContent = message;
  node.className = "result " + (ok ? "ok" : "bad");
}

// ---- rendering ------------------------------------------------------------------------------

function renderCaptures() {
  const root = $("captures");
  const max = Math.max(1, ...state.captures.map((c) => c.table_count));
  const total = state.captures.reduce((sum, c) => sum + c.table_count, 0);
  $("capture-summary").textContent = state.captures.length + " alive, " + total + " tables";
  root.replaceChildren(...state.captures.map((capture) => {
    const bar = el("div", { class: "bar" }, el("div"));
    bar.firstChild.style.width = (100 * capture.table_count / max).toFixed(1) + "%";
    const drain = el("button", {
      class: "secondary", type: "button", text: "Drain", "data-testid": "drain-" + capture.id,
      onclick: () => drainCapture(capture.id),
    });
    drain.disabled = capture.is_owner;
    return el("div", { class: "capture" + (capture.is_owner ? " owner" : ""), "data-testid": "capture-" + capture.id, "data-tables": String(capture.table_count) },
      el("div", { class: "name" },
        el("span", { text: (capture.is_owner ? "★ " : "") + capture.id }),
        el("span", { class: "badge " + capture.liveness, text: capture.liveness })),
      el("div", { class: "count", "data-testid": "count-" + capture.id, text: String(capture.table_count) }),
      el("div", { class: "muted", text: "tables · " + capture.state }),
      bar,
      el("div", { class: "muted", text: capture.address + " · v" + capture.version }),
      drain);
  }));
  const select = $("move-target");
  const chosen = select.value;
  select.replaceChildren(...state.captures.map((c) => el("option", { value: c.id, text: c.id })));
  if (state.captures.some((c) => c.id === chosen)) select.value = chosen;
}

function renderStates() {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  let inflight = 0;
  for (const table of state.tables) {
    counts[table.state] = (counts[table.state] || 0) + 1;
    if (table.task) inflight++;
  }
  const total = state.tables.length || 1;
  $("states").replaceChildren(...STATES.map((s) =>
    el("span", { class: "state s-" + s, "data-testid": "state-" + s }, s, el("b", { text: String(counts[s]) }))));
  $("state-bar").replaceChildren(...STATES.filter((s) => counts[s] > 0).map((s) => {
    const part = el("div", { class: "s-" + s, title: s + ": " + counts[s] });
    part.style.width = (100 * counts[s] / total).toFixed(2) + "%";
    return part;
  }));
  $("inflight").textContent = inflight === 0 ? "no task in flight" : inflight + " task(s) in flight";
}

function renderTables() {
  const filter = $("table-filter").value.trim().toLowerCase();
  const rows = [];
  for (const table of state.tables) {
    const text = [table.table_id, table.state, table.primary, table.secondary, table.task || ""].join(" ").toLowerCase();
    if (filter && !text.includes(filter)) continue;
    if (rows.length >= 500) break;
    rows.push(el("tr", {
      "data-testid": "table-" + table.table_id,
      onclick: () => { $("move-table").value = table.table_id; },
    },
      el("td", { text: String(table.table_id) }),
      el("td", { class: "s-text", text: table.state }),
      el("td", { text: table.primary || "–" }),
      el("td", { text: table.secondary || "–" }),
      el("td", { text: table.whole_table ? "whole" : "split " + table.span.start_key.slice(0, 12) + "…", title: table.span.start_key + " – " + table.span.end_key }),
      el("td", { text: table.write_keys_per_second == null ? "–" : String(table.write_keys_per_second) }),
      el("td", { text: String(table.checkpoint_ts) }),
      el("td", { text: table.task || "" })));
  }
  $("tables").replaceChildren(...rows);
  $("table-note").textContent = rows.length < state.tables.length ? "showing " + rows.length + " of " + state.tables.length + " (filter to narrow)" : "";
}

function renderTimeline() {
  const items = state.events.slice(-200).reverse().map((event) =>
    el("li", { "data-kind": event.kind },
      el("time", { text: new Date(event.time).toLocaleTimeString() }),
      el("span", { class: "kind k-" + event.kind, text: event.kind }),
      el("span", { text: event.message })));
  $("timeline").replaceChildren(...items);
}

function renderChart() {
  const canvas = $("lag-chart");
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 560;
  const height = canvas.clientHeight || 200;
  if (canvas.width !== Math.round(width * ratio)) { canvas.width = Math.round(width * ratio); canvas.height = Math.round(height * ratio); }
  const g = canvas.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const points = state.lag.get(state.changefeed) || [];
  const pad = { left: 48, right: 10, top: 10, bottom: 22 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const maxLag = Math.max(1000, ...points.map((p) => p.lagMs)) * 1.15;
  g.strokeStyle = "#2a3540"; g.fillStyle = "#8a98a8"; g.font = "11px system-ui"; g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = pad.top + h - (h * i) / 4;
    g.beginPath(); g.moveTo(pad.left, y); g.lineTo(pad.left + w, y); g.stroke();
    g.fillText(((maxLag * i) / 4 / 1000).toFixed(1) + " s", 4, y + 4);
  }
  if (points.length < 2) { g.fillText("collecting…", pad.left + 8, pad.top + 16); return; }
  const t0 = points[0].t; const t1 = points[points.length - 1].t; const span = Math.max(1, t1 - t0);
  g.fillText(Math.round(span / 1000) + " s", pad.left + w - 30, height - 6);
  g.strokeStyle = "#4aa3ff"; g.lineWidth = 2; g.beginPath();
  points.forEach((p, i) => {
    const x = pad.left + (w * (p.t - t0)) / span;
    const y = pad.top + h - (h * p.lagMs) / maxLag;
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

// ---- polling ------------------------------------------------------------------------------------

async function refresh() {
  try {
    const health = await api("/api/v2/health");
    $("health").textContent = health.status;
    $("health").className = "pill " + (health.status === "ok" ? "ok" : "bad");
    $("owner").textContent = health.owner_id || "–";
    const [captures, changefeeds] = await Promise.all([api("/api/v2/captures"), api("/api/v2/changefeeds")]);
    state.captures = captures;
    updateChangefeeds(changefeeds);
    if (state.changefeed) {
      state.tables = await api("/api/v2/changefeeds/" + encodeURIComponent(state.changefeed) + "/tables?limit=20000");
    } else {
      state.tables = [];
    }
    const page = await api("/api/v2/events?since=" + state.lastEvent);
    if (page.events.length > 0) {
      state.events.push(...page.events);
      if (state.events.length > 1000) state.events.splice(0, state.events.length - 1000);
    }
    state.lastEvent = page.last;
    renderCaptures(); renderStates(); renderTables(); renderTimeline(); renderChart();
  } catch (error) {
    $("health").textContent = "error: " + error.message;
    $("health").className = "pill bad";
  }
}

function updateChangefeeds(changefeeds) {
  const select = $("changefeed");
  const ids = changefeeds.map((c) => c.id);
  if (select.options.length !== ids.length || ids.some((id, i) => select.options[i].value !== id)) {
    select.replaceChildren(...ids.map((id) => el("option", { value: id, text: id })));
  }
  if (!ids.includes(state.changefeed)) state.changefeed = ids[0] || null;
  if (state.changefeed) select.value = state.changefeed;
  const now = Date.now();
  for (const changefeed of changefeeds) {
    const series = state.lag.get(changefeed.id) || [];
    series.push({ t: now, lagMs: changefeed.lag_ms });
    if (series.length > HISTORY_POINTS) series.shift();
    state.lag.set(changefeed.id, series);
    if (changefeed.id === state.changefeed) {
      $("checkpoint").textContent = "checkpoint " + changefeed.checkpoint_time.replace("T", " ").replace(/\..*$/, "") + " · lag " + (changefeed.lag_ms / 1000).toFixed(1) + " s";
    }
  }
}

// ---- actions ---------------------------------------------------------------------------------

async function act(label, path, body) {
  try {
    const result = await api(path, { method: "POST", body: body ? JSON.stringify(body) : undefined });
    showResult(label + ": " + (result.message || "ok"), true);
    refresh();
    return result;
  } catch (error) {
    showResult(label + " refused: " + error.message, false);
    return null;
  }
}

function moveTable(event) {
  event.preventDefault();
  const table = Number($("move-table").value);
  const target = $("move-target").value;
  act("move", "/api/v2/changefeeds/" + encodeURIComponent(state.changefeed) + "/tables/move_table", { capture_id: target, table_id: table });
}

async function drainCapture(id) {
  const result = await act("drain " + id, "/api/v2/captures/" + encodeURIComponent(id) + "/drain");
  if (result) showResult("drain " + id + ": " + result.current_table_count + " table(s) left (" + result.status + "); click again to follow up", true);
}

async function planRebalance() {
  try {
    const plan = await api("/api/v2/changefeeds/" + encodeURIComponent(state.changefeed) + "/rebalance_plan");
    $("plan").replaceChildren(...plan.moves.map((m) => el("li", { text: "table " + m.table_id + ": " + m.from + " → " + m.to })));
    showResult(plan.moves.length === 0 ? "plan: balanced, nothing to move" : "plan: " + plan.moves.length + " move(s)", true);
  } catch (error) {
    showResult("plan failed: " + error.message, false);
  }
}

function start() {
  $("token").value = localStorage.getItem("capstan-token") || "";
  $("token").addEventListener("change", () => localStorage.setItem("capstan-token", $("token").value));
  $("changefeed").addEventListener("change", () => { state.changefeed = $("changefeed").value; refresh(); });
  $("table-filter").addEventListener("input", renderTables);
  $("move-form").addEventListener("submit", moveTable);
  $("plan-button").addEventListener("click", planRebalance);
  $("rebalance-button").addEventListener("click", () =>
    act("rebalance", "/api/v2/changefeeds/" + encodeURIComponent(state.changefeed) + "/tables/rebalance_table"));
  $("resign-button").addEventListener("click", () => act("resign", "/api/v2/owner/resign"));
  refresh();
  setInterval(refresh, POLL_MS);
}

document.addEventListener("DOMContentLoaded", start);
