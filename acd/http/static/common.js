"use strict";
// Shared by the pages (no build step, no CDN, no inline code): the browser session, requests
// that change state, and how numbers and durations are shown. Times shown are the centre's:
// the server sends them ready-made (the browser's own zone is never used).
const hotline = {
  session: null,
  // Signed in? The session cookie (HttpOnly, SameSite=Strict) goes with every same-origin
  // request; without one, go to the sign-in page and come back here.
  async signIn(here) {
    const me = await fetch("/session", {credentials: "same-origin"});
    if (me.status !== 200) {
      location.replace("/signin?next=" + encodeURIComponent(here));
      return null;
    }
    this.session = await me.json();
    // Renew well before expiry while the page is open; a revoked key ends it.
    setInterval(async () => {
      const renewed = await fetch("/session/renew", {method: "POST", credentials: "same-origin"});
      if (renewed.status === 401) { this.signedOut(); }
    }, Math.max(5, this.session.ttl_s / 3) * 1000);
    return this.session;
  },
  // A state change: the cookie plus the session's anti-forgery value, which only a page of
  // this site can read (GET /session) and send as a header.
  async post(path, body) {
    const reply = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-Hotline-CSRF": this.session.csrf},
      body: JSON.stringify(body || {}),
    });
    let data = null;
    try { data = await reply.json(); } catch (e) { data = null; }
    return {ok: reply.ok, status: reply.status, data: data};
  },
  // Why a request was refused, from the API's error body.
  detail(reply) {
    const d = reply.data && reply.data.detail;
    if (typeof d === "string") { return d; }
    if (d && d.message) { return d.message; }
    if (Array.isArray(d)) { return d.map(e => e.msg).join("; "); }
    return "refused (" + reply.status + ")";
  },
  // The event stream ended or failed: is it the session (say so) or the connection (retry)?
  async streamLost(status, restart) {
    let signedIn = false;
    try { signedIn = (await fetch("/session", {credentials: "same-origin"})).status === 200; }
    catch (e) { signedIn = null; }
    if (signedIn === false) { this.signedOut(); return; }
    status.textContent = "connection lost: retrying…";
    status.dataset.link = "retrying";
    setTimeout(restart, 2000);
  },
  signedOut() {
    const status = document.getElementById("status");
    status.dataset.link = "signed-out";
    status.textContent = "signed out (session expired or key revoked): ";
    const again = document.createElement("a");
    again.href = "/signin?next=" + encodeURIComponent(location.pathname + location.search);
    again.textContent = "sign in again";
    again.id = "sign-in-again";
    status.appendChild(again);
  },
  // What people call the agent states (the API's names stay in data-state attributes).
  stateName(state) {
    return {logged_out: "logged out", ready: "ready", reserved: "ringing", on_call: "on call",
            wrap_up: "wrap-up", paused: "paused", pending_logout: "on call, then out"}[state] || state;
  },
  pct(v) { return v === null || v === undefined ? "-" : (100 * v).toFixed(0) + " %"; },
  secs(v) {
    if (v === null || v === undefined) { return "-"; }
    v = Math.round(v);
    if (v < 60) { return v + " s"; }
    if (v < 3600) { return Math.floor(v / 60) + " min " + (v % 60) + " s"; }
    return Math.floor(v / 3600) + " h " + Math.floor((v % 3600) / 60) + " min";
  },
  clock(v) {
    if (v === null || v === undefined) { return "-"; }
    v = Math.round(v);
    const m = Math.floor(v / 60), s = v % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  },
  el(tag, text, attrs) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    for (const [k, v] of Object.entries(attrs || {})) { node.setAttribute(k, v); }
    return node;
  },
};
