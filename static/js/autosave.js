// What the two autosave engines share (the application form: entry-form.js; score sheets:
// sheet.js), loaded before them: the store of changes kept in this browser, scoped to the
// signed-in person; the save request and what its answer means; the delay before a save; and
// the status line, which always gets a message and its kind (pending, saving, saved, offline, error).
(function () {
  "use strict";

  // Changes kept while the network is gone belong to the signed-in person (data-owner on the
  // engine's script tag): on a shared device nobody signing in after them sees or sends them.
  // Without a known person nothing is kept.
  function Keeper(store, owner) {
    this.store = store;
    this.prefix = owner ? owner + " " : null;
  }
  Keeper.prototype.read = function () {
    try { return JSON.parse(window.localStorage.getItem(this.store) || "{}") || {}; } catch (e) { return {}; }
  };
  Keeper.prototype.write = function (data) {
    try { window.localStorage.setItem(this.store, JSON.stringify(data)); } catch (e) { /* private mode or full */ }
  };
  Keeper.prototype.get = function (url) {
    return this.prefix === null ? null : this.read()[this.prefix + url] || null;
  };
  Keeper.prototype.set = function (url, item) {
    if (this.prefix === null) return;
    var data = this.read();
    if (item) { data[this.prefix + url] = item; } else { delete data[this.prefix + url]; }
    this.write(data);
  };
  // The addresses this person has changes kept for.
  Keeper.prototype.urls = function () {
    var prefix = this.prefix;
    if (prefix === null) return [];
    return Object.keys(this.read()).filter(function (k) { return k.indexOf(prefix) === 0; })
      .map(function (k) { return k.slice(prefix.length); });
  };

  function owner(script) {
    return (script && script.getAttribute("data-owner")) || "";
  }

  // One save: resolves to {status, body} (body {} when the answer is no JSON, e.g. an error
  // page); rejects when the network is gone.
  function send(url, body) {
    var field = document.querySelector("input[name=_csrf_token]");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": field ? field.value : "" },
      body: body,
    }).then(function (response) {
      var json = (response.headers.get("content-type") || "").indexOf("json") !== -1;
      if (!json) return { status: response.status, body: {} };
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, body: data || {} };
      });
    });
  }

  // The server's answer in one word: saved; stale (someone saved in the meantime: 409 "stale");
  // refused (409 for anything else: submitted, read-only, closed); invalid (422); signedout
  // (401, 403); failed (anything else: kept, tried again).
  function outcome(result) {
    var s = result.status;
    if (s === 200) return "saved";
    if (s === 409) return result.body.error === "stale" ? "stale" : "refused";
    if (s === 422) return "invalid";
    if (s === 401 || s === 403) return "signedout";
    return "failed";
  }

  // A timer that runs its function once, the given time after the last call of later().
  function Delay(fn) { this.fn = fn; this.timer = null; }
  Delay.prototype.later = function (ms) {
    var self = this;
    this.cancel();
    this.timer = setTimeout(function () { self.timer = null; self.fn(); }, ms);
  };
  Delay.prototype.cancel = function () {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  };

  function say(line, message, kind) {
    if (!line) return;
    line.textContent = message || "";
    line.setAttribute("data-kind", kind || "");
  }

  window.AwardJuryAutosave = { Keeper: Keeper, owner: owner, send: send, outcome: outcome, Delay: Delay, say: say };
})();
