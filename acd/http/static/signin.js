"use strict";
// Exchange the key for a session cookie once; the key is not kept by the page.
// Where to go once signed in: where the page came from, else an agent's desktop or the wallboard.
function target(session) {
  const home = session.agent ? "/desk" : "/wallboard";
  const next = new URLSearchParams(location.search).get("next") || home;
  // only a path on this site: never "//other.example" or "https://..."
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : home;
}
const form = document.getElementById("signin");
form.addEventListener("submit", async event => {
  event.preventDefault();
  const field = document.getElementById("key");
  const reply = await fetch("/session", {
    method: "POST",
    credentials: "same-origin",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({key: field.value}),
  });
  field.value = "";
  if (reply.status === 200) {
    location.replace(target(await reply.json()));
  } else if (reply.status === 429) {
    document.getElementById("error").textContent = "Too many failed attempts: wait and try again.";
  } else {
    document.getElementById("error").textContent = "That key was not accepted.";
  }
});
form.dataset.ready = "1";  // the page is usable (tests wait for this)
