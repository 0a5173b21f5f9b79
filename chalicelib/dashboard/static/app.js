// Entry point: sign-in, the hash router, and the views' lifecycle (each view may return a stop function).
import { auth, get, whenUnauthorized } from "./api.js";
import { h, replace, alertBox, describe, modal } from "./ui.js";
import { agentsView } from "./agents.js";
import { batchesView } from "./batches.js";
import { detailView } from "./detail.js";
import { settingsView } from "./settings.js";
import { suppressionsView } from "./suppressions.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let stopView = null;
let signInMessage = "";

let signInDialog = null;
let signingIn = false;

// A refused key: with a view open, sign in again in a dialog over it (nothing typed there is lost);
// otherwise the sign-in page. Either way with the API's message.
whenUnauthorized((error) => {
  if (signingIn) return; // the sign-in form reports its own refusal
  auth.clear();
  const message = `Your API key was refused (${error.message}). It may have been revoked or mistyped: sign in again.`;
  if (!main.querySelector(".view")) { signInMessage = message; render(); return; }
  if (signInDialog) return;
  const dialog = modal("Sign in again", signInForm(message, () => {
    dialog.close();
    window.dispatchEvent(new Event("batchcall:signed-in")); // pollers resume at once
  }), { testid: "signin-dialog", onClose: () => {
    signInDialog = null;
    if (!auth.key) { signInMessage = message; render(); } // dismissed without a key
  } });
  signInDialog = dialog;
});

document.getElementById("sign-out").addEventListener("click", () => {
  auth.clear();
  signInMessage = "";
  location.hash = "";
  render();
});

function signInForm(message, onSuccess) {
  const input = h("input", { type: "password", autocomplete: "off", spellcheck: "false",
    required: true, placeholder: "bk_…", id: "api-key-" + Math.random().toString(36).slice(2) });
  const error = alertBox("signin-error");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { novalidate: true },
    h("p", {}, "Paste an API key (made with ", h("code", {}, "manage.py create-key"),
      "; the local stack prints one). It stays in this tab only and is sent as a Bearer token."),
    h("div", { class: "field" }, h("label", { for: input.id }, "API key"), input),
    error, button);
  if (message) { error.hidden = false; error.textContent = message; }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) { error.hidden = false; error.textContent = "Enter an API key."; input.focus(); return; }
    button.disabled = true;
    signingIn = true;
    auth.set(key);
    try {
      await get("agents"); // checks the key
      signInMessage = "";
      onSuccess();
    } catch (err) {
      auth.clear();
      error.hidden = false;
      error.textContent = err.status === 401 ? `That key was refused (${err.message}).` : describe(err);
      input.focus();
    } finally {
      signingIn = false;
      button.disabled = false;
    }
  });
  setTimeout(() => input.focus());
  return form;
}

function signIn() {
  nav.hidden = true;
  replace(main, h("div", { class: "card signin" }, h("h1", {}, "Sign in"), signInForm(signInMessage, () => {
    if (!location.hash || location.hash === "#/") location.hash = "#/agents";
    render();
  })));
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
  else if (route[0] === "suppressions") stop = suppressionsView(container);
  else stop = agentsView(container);
  stopView = typeof stop === "function" ? stop : null;
}

window.addEventListener("hashchange", () => { render(); main.focus({ preventScroll: true }); });
render();
