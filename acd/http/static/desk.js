"use strict";
// The agent desktop: the agent's state and buttons, the screen pop of the call ringing or
// talking with them, recording pause and transfer during the call, and the disposition of the
// last call. Data arrives over server-sent events (pushed as the agent's state changes);
// buttons call the ordinary API with the session cookie and its anti-forgery header.
let snap = null;
let receivedAt = 0;
let agentId = null;
const $ = id => document.getElementById(id);

function say(text, ok) {
  const m = $("message");
  m.textContent = text;
  m.className = ok ? "ok" : "bad";
}
async function act(path, body, done) {
  const reply = await hotline.post(path, body);
  if (reply.ok) { say(done, true); } else { say(hotline.detail(reply), false); }
  return reply;
}
// The centre's time zone offset at a local wall time, so a follow-up typed as local time is
// sent as an exact instant (the browser's own zone plays no part).
function offsetMinutes(date, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {timeZone: zone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"})
    .formatToParts(date);
  const get = t => Number(parts.find(p => p.type === t).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - date.getTime()) / 60000);
}
function zonedIso(local, zone) {
  const [d, t] = local.split("T");
  const [Y, M, D] = d.split("-").map(Number);
  const [h, m] = t.split(":").map(Number);
  let utc = Date.UTC(Y, M - 1, D, h, m);
  for (let i = 0; i < 2; i++) { utc = Date.UTC(Y, M - 1, D, h, m) - offsetMinutes(new Date(utc), zone) * 60000; }
  const off = offsetMinutes(new Date(utc), zone);
  const sign = off < 0 ? "-" : "+";
  const pad = n => String(Math.floor(n)).padStart(2, "0");
  return d + "T" + t.slice(0, 5) + ":00" + sign + pad(Math.abs(off) / 60) + ":" + pad(Math.abs(off) % 60);
}
function options(select, items, keep) {
  const before = select.value;
  select.replaceChildren(...items);
  if (keep && [...select.options].some(o => o.value === before)) { select.value = before; }
}
function tick() {
  if (snap === null) { return; }
  const gone = (Date.now() - receivedAt) / 1000;
  const a = snap.agent;
  $("in-state").textContent = a.in_state_s === null ? "" : "for " + hotline.secs(a.in_state_s + gone) +
    (a.since_local ? " (since " + a.since_local.slice(11, 19) + ")" : "");
  const c = snap.call;
  $("call-timer").textContent = c && c.state === "talking" && c.talk_s !== null ? hotline.clock(c.talk_s + gone) : "";
}
function render(s) {
  snap = s;
  receivedAt = Date.now();
  const a = s.agent;
  $("who").textContent = "— " + a.name + " (" + a.agent + ")";
  $("clock").textContent = s.clock + " " + s.timezone;
  const state = $("state");
  state.textContent = hotline.stateName(a.state);
  state.className = "badge state-" + a.state;
  document.body.dataset.state = a.state;
  $("reason").textContent = a.pause_label ? "· " + a.pause_label : "";
  $("ready").disabled = !["logged_out", "paused"].includes(a.state);
  // during a ring or a call a pause starts when the call ends (the agent state machine defers it)
  $("pause").disabled = ["logged_out", "pending_logout"].includes(a.state);
  $("wrapup-end").disabled = a.state !== "wrap_up";
  $("logout").disabled = a.state === "logged_out";
  options($("pause-reason"), s.pause_reasons.map(r => hotline.el("option", r.label, {value: r.name})), true);
  renderCall(s.call, s.transfer);
  renderWrapUp(s.wrap_up, s.call);
  const status = $("status");
  status.textContent = "live";
  status.dataset.link = "live";
  status.setAttribute("data-updates", String(Number(status.getAttribute("data-updates") || 0) + 1));
  tick();
}
function renderCall(c, transfer) {
  const panel = $("call-panel");
  panel.hidden = c === null;
  document.body.dataset.call = c ? c.state : "";
  if (c === null) { return; }
  panel.dataset.callId = c.call_id;
  $("call-state").textContent = c.state === "ringing" ? "Ringing" : "On call";
  $("pop-name").textContent = c.name || "(unknown caller)";
  $("pop-vip").hidden = !c.vip;
  $("pop-number").textContent = c.number || "(withheld)";
  $("pop-queue").textContent = c.queue_label || c.queue || "-";
  $("pop-ivr").textContent = c.ivr.menus.map(m => m.node + (m.keys.length ? " [" + m.keys.join("") + "]" : "")).join(" → ") || "-";
  $("pop-reason").textContent = c.ivr.reason || "-";
  $("pop-order").textContent = c.ivr.order_number || "-";
  const recent = c.recent_calls.map(r => {
    const tr = hotline.el("tr", null, {"data-call": r.call_id});
    for (const v of [r.arrived_at.slice(0, 16).replace("T", " "), r.queue || "-", r.agent || "-",
                     r.outcome || "-", r.disposition || "-"]) { tr.appendChild(hotline.el("td", v)); }
    return tr;
  });
  if (!recent.length) {
    const none = hotline.el("tr");
    none.appendChild(hotline.el("td", "no earlier calls from this number", {colspan: "5", "class": "note"}));
    recent.push(none);
  }
  $("recent").querySelector("tbody").replaceChildren(...recent);
  const talking = c.state === "talking";
  $("talk-controls").hidden = !talking || !c.recording.recorded;
  $("record-pause").disabled = c.recording.paused;
  $("record-resume").disabled = !c.recording.paused;
  $("recording").textContent = c.recording.paused ? "recording paused" : "recording";
  $("transfer").hidden = !talking || transfer === null;
  if (transfer !== null) {
    const groups = [];
    if (transfer.queues.length) {
      const g = hotline.el("optgroup", null, {label: "queues"});
      g.append(...transfer.queues.map(q => hotline.el("option", q.label, {value: "queue:" + q.name})));
      groups.push(g);
    }
    if (transfer.agents.length) {
      const g = hotline.el("optgroup", null, {label: "agents"});
      g.append(...transfer.agents.map(x => hotline.el("option", x.name + " (" + x.id + ")", {value: "agent:" + x.id})));
      groups.push(g);
    }
    options($("transfer-target"), groups, true);
    $("transfer-reason").required = transfer.reason_required;
  }
}
function renderWrapUp(w, call) {
  const panel = $("wrap-panel");
  const current = call && call.call_id === (w && w.call_id);
  panel.hidden = w === null || (current && call.state === "ringing");
  if (w === null) { return; }
  panel.dataset.callId = w.call_id;
  $("wrap-call").textContent = (w.name || w.number || w.call_id) + " · " + (w.queue_label || "");
  options($("disposition-code"), w.dispositions.map(d => hotline.el("option", d.replace(/_/g, " "), {value: d})), true);
  $("disposition-saved").textContent = w.disposition ? "recorded: " + w.disposition : "";
}
function wire() {
  const me = () => "/agents/" + encodeURIComponent(agentId) + "/";
  $("ready").addEventListener("click", () =>
    act(me() + (snap.agent.state === "logged_out" ? "login" : "unpause"), null, "ready"));
  $("pause").addEventListener("click", () =>
    act(me() + "pause", {reason: $("pause-reason").value}, "paused"));
  $("wrapup-end").addEventListener("click", () => act(me() + "wrapup-end", null, "wrap-up ended"));
  $("logout").addEventListener("click", () => act(me() + "logout", null, "logged out"));
  const call = () => "/calls/" + encodeURIComponent($("call-panel").dataset.callId);
  $("record-pause").addEventListener("click", async () => {
    const r = await act(call() + "/recording/pause", {reason: "card_data"}, "recording paused");
    if (r.ok && snap.call) { snap.call.recording.paused = true; renderCall(snap.call, snap.transfer); }
  });
  $("record-resume").addEventListener("click", async () => {
    const r = await act(call() + "/recording/resume", null, "recording resumed");
    if (r.ok && snap.call) { snap.call.recording.paused = false; renderCall(snap.call, snap.transfer); }
  });
  $("transfer").addEventListener("submit", async event => {
    event.preventDefault();
    const [kind, name] = $("transfer-target").value.split(":");
    const body = {[kind]: name};
    if ($("transfer-reason").value) { body.reason = $("transfer-reason").value; }
    await act(call() + "/transfer", body, "transferring to " + name);
  });
  $("disposition").addEventListener("submit", async event => {
    event.preventDefault();
    const id = $("wrap-panel").dataset.callId;
    const body = {code: $("disposition-code").value, resolved: $("disposition-resolved").checked};
    if ($("disposition-notes").value) { body.notes = $("disposition-notes").value; }
    if ($("follow-up").value) { body.follow_up_due = zonedIso($("follow-up").value, snap.timezone); }
    const r = await act("/calls/" + encodeURIComponent(id) + "/disposition", body, "disposition saved");
    if (r.ok) { $("disposition-saved").textContent = "recorded: " + r.data.code; }
  });
}
function follow() {
  const who = new URLSearchParams(location.search).get("agent");
  const events = new EventSource("/events/desk" + (who ? "?agent=" + encodeURIComponent(who) : ""));
  events.onmessage = e => render(JSON.parse(e.data));
  events.addEventListener("signed_out", () => { events.close(); hotline.signedOut(); });
  events.onerror = () => { events.close(); hotline.streamLost($("status"), follow); };
}
async function start() {
  const session = await hotline.signIn(location.pathname + location.search);
  if (session === null) { return; }
  agentId = new URLSearchParams(location.search).get("agent") || session.agent;
  if (!agentId) {
    $("status").textContent = session.name + " is not an agent: open /desk?agent=ID";
    $("status").dataset.link = "no-agent";
    return;
  }
  $("status").setAttribute("data-user", session.name);
  wire();
  setInterval(tick, 1000);
  follow();
}
start();
