"use strict";
// Exchange the key for a session cookie once; the key is not kept by the page.
function target() {
  const next = new URLSearchParams(location.search).get("next") || "/wallboard";
  // only a path on this site: never "//other.example" or "https://..."
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/wallboard";
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
    location.replace(target());
  } else if (reply.status === 429) {
    document.getElementById("error").textContent = "Too many failed attempts: wait and try again.";
  } else {
    document.getElementById("error").textContent = "That key was not accepted.";
  }
});
form.dataset.ready = "1";  // the page is usable (tests wait for this)
