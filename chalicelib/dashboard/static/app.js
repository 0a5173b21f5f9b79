// Entry point: sign-in, the hash router, and the views' lifecycle (each view may return a stop function).
import { auth, get, whenUnauthorized } from "./api.js";
import { h, replace, alertBox, describe } from "./ui.js";
import { agentsView } from "./agents.js";
import { batchesView } from "./batches.js";
import { detailView } from "./detail.js";
import { settingsView } from "./settings.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let stopView = null;
let signInMessage = "";

whenUnauthorized((error) => {
  auth.clear();
  signInMessage = `Your API key was refused (${error.message}). It may have been revoked or mistyped: sign in again.`;
  render();
});

document.getElementById("sign-out").addEventListener("click", () => {
  auth.clear();
  signInMessage = "";
  location.hash = "";
  render();
});

function signIn() {
  nav.hidden = true;
  const input = h("input", { id: "api-key", type: "password", autocomplete: "off", spellcheck: "false",
    required: true, placeholder: "bk_…" });
  const error = alertBox("signin-error");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "card signin", novalidate: true },
    h("h1", {}, "Sign in"),
    h("p", {}, "Paste an API key (made with ", h("code", {}, "manage.py create-key"),
      "; the local stack prints one). It stays in this tab only and is sent as a Bearer token."),
    h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), input),
    error, button);
  if (signInMessage) { error.hidden = false; error.textContent = signInMessage; }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { error.hidden = false; error.textContent = "Enter an API key."; input.focus(); return; }
    button.disabled = true;
    auth.set(key);
    try {
      await get("agents"); // checks the key
      signInMessage = "";
      if (!location.hash || location.hash === "#/") location.hash = "#/agents";
      render();
    } catch (err) {
      if (err.status !== 401) {
        auth.clear();
        error.hidden = false;
        error.textContent = describe(err);
      }
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  input.focus();
}

function render() {
  if (stopView) { stopView(); stopView = null; }
  document.querySelectorAll("dialog.modal").forEach((d) => d.close());
  if (!auth.key) { signIn(); return; }
  nav.hidden = false;
  const route = (location.hash || "#/agents").slice(1).split("/").filter(Boolean).map(decodeURIComponent);
  for (const link of nav.querySelectorAll("a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href").slice(2) === route[0]);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const container = h("div", { class: "view" });
  replace(main, container);
  let stop;
  if (route[0] === "agents" && route[1]) stop = batchesView(container, route[1]);
  else if (route[0] === "batches" && route[1]) stop = detailView(container, route[1]);
  else if (route[0] === "settings") stop = settingsView(container);
  else stop = agentsView(container);
  stopView = typeof stop === "function" ? stop : null;
}

window.addEventListener("hashchange", () => { render(); main.focus({ preventScroll: true }); });
render();
