"use strict";
// No build step, no CDN: plain DOM code fed by server-sent events (one snapshot a second).
function pct(v) { return v === null || v === undefined ? "-" : (100 * v).toFixed(0) + " %"; }
function secs(v) {
  v = Math.round(v);
  return v < 60 ? v + " s" : Math.floor(v / 60) + " min " + (v % 60) + " s";
}
function cell(row, text, attrs) {
  const td = document.createElement("td");
  td.textContent = text;
  for (const [k, v] of Object.entries(attrs || {})) { td.setAttribute(k, v); }
  row.appendChild(td);
  return td;
}
function render(snap) {
  const alerts = document.getElementById("alerts");
  alerts.replaceChildren(...snap.alerts.map(a => {
    const div = document.createElement("div");
    div.textContent = a.text;
    div.setAttribute("data-alert", a.kind);
    return div;
  }));
  const qbody = document.querySelector("#queues tbody");
  qbody.replaceChildren(...Object.entries(snap.queues).sort().map(([name, q]) => {
    const tr = document.createElement("tr");
    tr.setAttribute("data-queue", name);
    cell(tr, name);
    cell(tr, String(q.waiting), {"class": "num", "data-field": "waiting"});
    cell(tr, secs(q.longest_wait_s), {"class": "num" + (q.breach_predicted ? " bad" : ""),
                                       "data-field": "longest"});
    cell(tr, pct(q.service_level.today), {"class": "num", "data-field": "sl-today"});
    cell(tr, pct(q.service_level.last_15m), {"class": "num", "data-field": "sl-15m"});
    cell(tr, pct(q.service_level.last_30m), {"class": "num", "data-field": "sl-30m"});
    const s = q.agents_by_state;
    cell(tr, (s.ready || 0) + " / " + (s.on_call || 0) + " / " + (s.paused || 0));
    return tr;
  }));
  const abody = document.querySelector("#agents tbody");
  abody.replaceChildren(...snap.agents.map(a => {
    const tr = document.createElement("tr");
    tr.setAttribute("data-agent", a.agent);
    tr.setAttribute("data-state", a.state);
    cell(tr, a.agent);
    cell(tr, a.name);
    cell(tr, a.state.replace("_", " "), {"class": "state-" + a.state, "data-field": "state"});
    cell(tr, secs(a.in_state_s), {"class": "num"});
    cell(tr, a.pause_reason || "");
    return tr;
  }));
  const when = new Date(snap.at * 1000).toLocaleTimeString();
  const status = document.getElementById("status");
  status.textContent = (snap.ami_up ? "live" : "AMI DOWN") + " · " + when;
  status.setAttribute("data-updates", String(Number(status.getAttribute("data-updates") || 0) + 1));
}
// Signed in? The session cookie (HttpOnly, SameSite=Strict) goes with every same-origin
// request, the event stream included: no key or token ever appears in a URL.
async function start() {
  const me = await fetch("/session", {credentials: "same-origin"});
  if (me.status !== 200) {
    location.replace("/signin?next=" + encodeURIComponent(location.pathname));
    return;
  }
  const session = await me.json();
  document.getElementById("status").setAttribute("data-user", session.name);
  // Renew well before expiry while the page is open; a revoked key ends it.
  setInterval(async () => {
    const renewed = await fetch("/session/renew", {method: "POST", credentials: "same-origin"});
    if (renewed.status === 401) { location.replace("/signin?next=/wallboard"); }
  }, Math.max(5, session.ttl_s / 3) * 1000);
  const events = new EventSource("/events/wallboard");
  events.onmessage = e => render(JSON.parse(e.data));
  events.onerror = () => { document.getElementById("status").textContent = "reconnecting…"; };
}
start();
