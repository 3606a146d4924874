"use strict";
// The wallboard: one snapshot a second over server-sent events. Every table is drawn from one
// list of columns, so a header and the values under it cannot drift apart. Times are the
// centre's, as the server formats them; KPI figures are those of `hotline report`.
const STATE_COLUMNS = [
  ["ready", "ready", s => s.ready || 0],
  ["ringing", "ringing", s => s.reserved || 0],
  ["on_call", "on call", s => (s.on_call || 0) + (s.pending_logout || 0)],
  ["wrap_up", "wrap-up", s => s.wrap_up || 0],
  ["paused", "paused", s => s.paused || 0],
];
const QUEUE_COLUMNS = [
  {field: "queue", title: "queue", value: (n, q) => q.display_name},
  {field: "waiting", title: "waiting", num: true, value: (n, q) => String(q.waiting)},
  {field: "longest", title: "longest wait", num: true, value: (n, q) => hotline.secs(q.longest_wait_s),
   cls: (n, q) => q.breach_predicted ? "bad" : ""},
  ...STATE_COLUMNS.map(([key, title, get]) => (
    {field: "agents-" + key, title: title, num: true, value: (n, q) => String(get(q.agents_by_state))})),
  {field: "callbacks", title: "call-backs due", num: true, value: (n, q) => String(q.callbacks_pending)},
  ...[["today", "SL today"], ["last_15m", "SL 15 min"], ["last_30m", "SL 30 min"]].map(([p, title]) => ({
    field: "sl-" + p, title: title, num: true,
    value: (n, q) => hotline.pct(q.figures[p] && q.figures[p].service_level),
    cls: (n, q) => "sl-" + (q.figures[p] ? q.figures[p].sl_colour : "none")})),
  {field: "sl-target", title: "SL target", num: true, value: (n, q) => hotline.pct(q.service_level_target)},
];
const PERIOD_NAMES = {today: "today", last_15m: "last 15 min", last_30m: "last 30 min"};
const FIGURE_COLUMNS = [
  {field: "queue", title: "queue", value: r => r.first ? r.label : ""},
  {field: "period", title: "period", value: r => PERIOD_NAMES[r.period]},
  {field: "offered", title: "offered", num: true, value: r => String(r.f.offered)},
  {field: "answered", title: "answered", num: true, value: r => String(r.f.answered)},
  {field: "abandoned", title: "abandoned", num: true, value: r => String(r.f.abandoned)},
  {field: "abandon-rate", title: "abandon rate", num: true, value: r => hotline.pct(r.f.abandon_rate)},
  {field: "asa", title: "ASA", num: true, value: r => hotline.secs(r.f.asa_s)},
  {field: "aht", title: "AHT", num: true, value: r => hotline.secs(r.f.aht_s)},
  {field: "sl", title: "service level", num: true, value: r => hotline.pct(r.f.service_level),
   cls: r => "sl-" + r.f.sl_colour},
];
const AGENT_COLUMNS = [
  {field: "agent", title: "agent", value: a => a.agent},
  {field: "name", title: "name", value: a => a.name},
  {field: "state", title: "state", value: a => hotline.stateName(a.state), cls: a => "state-" + a.state},
  {field: "since", title: "since", num: true, value: a => a.since_local || "-"},
  {field: "in-state", title: "in state", num: true, value: a => hotline.secs(a.in_state_s)},
  {field: "reason", title: "pause reason", value: a => a.pause_label || ""},
  {field: "call-queue", title: "call: queue", value: a => a.call ? a.call.queue : ""},
  {field: "call-caller", title: "caller", value: a => a.call ? callerText(a.call) : ""},
  {field: "call-talk", title: "talk time", num: true,
   value: a => a.call ? (a.call.state === "talking" ? hotline.clock(a.call.talk_s) : "ringing") : ""},
  {field: "handled", title: "handled today", num: true, value: a => String(a.handled_today)},
];
function callerText(call) {
  const who = call.caller_name ? call.caller_name + " " : "";
  return who + (call.caller || "") + (call.vip ? " VIP" : "");
}
function header(table, columns) {
  const row = hotline.el("tr");
  for (const c of columns) {
    row.appendChild(hotline.el("th", c.title, c.num ? {"data-field": c.field, "class": "num"} : {"data-field": c.field}));
  }
  table.querySelector("thead").replaceChildren(row);
}
function line(columns, args, attrs) {
  const tr = hotline.el("tr", null, attrs);
  for (const c of columns) {
    const cls = [c.num ? "num" : "", c.cls ? c.cls(...args) : ""].join(" ").trim();
    const td = hotline.el("td", c.value(...args), {"data-field": c.field});
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }
  return tr;
}
function render(snap) {
  document.getElementById("alerts").replaceChildren(...snap.alerts.map(
    a => hotline.el("div", a.text, {"data-alert": a.kind})));
  const queues = Object.entries(snap.queues).sort();
  const waiting = queues.reduce((n, [, q]) => n + q.waiting, 0);
  const totals = [["waiting", "callers waiting", waiting], ["ivr", "in the IVR", snap.ivr],
                  ["callbacks", "call-backs due", snap.callbacks_pending]];
  document.getElementById("totals").replaceChildren(...totals.map(([k, label, v]) => {
    const box = hotline.el("div", null, {"data-total": k});
    box.append(hotline.el("span", String(v), {"class": "big"}), hotline.el("span", label));
    return box;
  }));
  document.querySelector("#queues tbody").replaceChildren(
    ...queues.map(([name, q]) => line(QUEUE_COLUMNS, [name, q], {"data-queue": name})));
  const rows = [];
  for (const [name, q] of queues) {
    Object.keys(PERIOD_NAMES).forEach((period, i) => {
      rows.push(line(FIGURE_COLUMNS, [{first: i === 0, label: q.display_name, period: period,
                                       f: q.figures[period]}],
                     {"data-queue": name, "data-period": period}));
    });
  }
  document.querySelector("#figures tbody").replaceChildren(...rows);
  document.getElementById("figures-at").textContent =
    snap.figures_clock ? "(as of " + snap.figures_clock + ")" : "(no figures yet)";
  document.querySelector("#agents tbody").replaceChildren(...snap.agents.map(
    a => line(AGENT_COLUMNS, [a], {"data-agent": a.agent, "data-state": a.state})));
  const clock = document.getElementById("clock");
  clock.textContent = snap.clock + " " + snap.timezone + " (UTC" + snap.utc_offset + ")";
  const status = document.getElementById("status");
  status.textContent = snap.ami_up ? "live" : "AMI DOWN";
  status.dataset.link = snap.ami_up ? "live" : "ami-down";
  status.setAttribute("data-updates", String(Number(status.getAttribute("data-updates") || 0) + 1));
}
function follow() {
  const events = new EventSource("/events/wallboard");
  events.onmessage = e => render(JSON.parse(e.data));
  events.onerror = () => {
    events.close();
    hotline.streamLost(document.getElementById("status"), follow);
  };
}
async function start() {
  const wall = new URLSearchParams(location.search).get("wall") === "1";
  document.body.classList.toggle("wall", wall);
  const toggle = document.getElementById("wall-toggle");
  toggle.href = wall ? "/wallboard" : "/wallboard?wall=1";
  toggle.textContent = wall ? "normal view" : "wall mode";
  header(document.getElementById("queues"), QUEUE_COLUMNS);
  header(document.getElementById("figures"), FIGURE_COLUMNS);
  header(document.getElementById("agents"), AGENT_COLUMNS);
  const session = await hotline.signIn(location.pathname + location.search);
  if (session === null) { return; }
  document.getElementById("status").setAttribute("data-user", session.name);
  follow();
}
start();
