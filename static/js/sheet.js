// Score sheets: the weighted total as you score, autosave a moment after each change, unsaved
// changes kept in this browser's storage while the network is gone (sent with the sheet's version
// when it is back), and a visible choice when another tab or device saved the sheet meanwhile.
// A submitted sheet is never autosaved: it changes only when it is submitted again.
// Without JavaScript the same form posts and the server does all of this on its own.
// The kept store, the save request, the delay and the status line come from autosave.js.
(function () {
  "use strict";
  var AJ = window.AwardJuryAutosave;
  // Kept changes are the signed-in person's: on a shared device another juror never sees or sends them.
  var keeper = new AJ.Keeper("award_jury.sheets.v1", AJ.owner(document.currentScript));
  var DELAY = 1500;
  var RETRY = 5000;
  var sheets = [];

  function pendingFor(url) { return keeper.get(url); }
  function setPending(url, item) { keeper.set(url, item); }
  function sameFields(a, b) {
    var keys = Object.keys(a).concat(Object.keys(b));
    for (var i = 0; i < keys.length; i++) {
      if ((a[keys[i]] || "") !== (b[keys[i]] || "")) return false;
    }
    return true;
  }
  function post(url, fields, version) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    body.set("version", String(version));
    return AJ.send(url, body);
  }
  function lang() { return document.documentElement.lang || "de"; }
  function number(text) {
    var value = parseFloat(String(text).replace(",", "."));
    return isNaN(value) ? null : value;
  }
  function formatNumber(value, places) {
    // No grouping: a value put back into a number field ("1500") must read back as the same number.
    var options = places === undefined ? { maximumFractionDigits: 4 } : { minimumFractionDigits: places, maximumFractionDigits: places };
    options.useGrouping = false;
    return new Intl.NumberFormat(lang(), options).format(value);
  }

  function Sheet(form) {
    this.form = form;
    this.url = form.getAttribute("data-autosave");
    this.section = form.closest(".sheet") || form.parentNode;
    this.versionField = form.querySelector("[data-version]");
    this.stateLine = form.querySelector("[data-save-state]");
    this.panel = this.section.querySelector("[data-conflict-panel]");
    this.readOnly = form.hasAttribute("data-read-only");
    this.inflight = null;
    var self = this;
    this.delay = new AJ.Delay(function () { self.send(); });
    this.blocked = false;
    this.bind();
  }

  Sheet.prototype.text = function (name) { return this.form.getAttribute("data-text-" + name) || ""; };
  Sheet.prototype.version = function () { return parseInt(this.versionField.value, 10) || 0; };
  Sheet.prototype.setVersion = function (v) { this.versionField.value = String(v); };
  Sheet.prototype.say = function (message, kind) { AJ.say(this.stateLine, message, kind); };

  Sheet.prototype.criteria = function () {
    return Array.prototype.slice.call(this.form.querySelectorAll("[data-criterion]"));
  };
  Sheet.prototype.collect = function () {
    var fields = {};
    this.criteria().forEach(function (box) {
      var name = "score-" + box.getAttribute("data-criterion");
      var checked = box.querySelector("input[type=radio]:checked");
      var text = box.querySelector("input[type=text]");
      fields[name] = checked ? checked.value : (text ? text.value.trim() : "");
    });
    ["comment", "private_note"].forEach(function (name) {
      var field = this.form.querySelector("[name=" + name + "]");
      fields[name] = field ? field.value : "";
    }, this);
    return fields;
  };
  Sheet.prototype.apply = function (fields) {
    this.criteria().forEach(function (box) {
      var name = "score-" + box.getAttribute("data-criterion");
      var value = fields[name] || "";
      var radios = box.querySelectorAll("input[type=radio]");
      if (radios.length) {
        Array.prototype.forEach.call(radios, function (r) { r.checked = number(r.value) === number(value) && (r.value === "") === (value === ""); });
      } else {
        var text = box.querySelector("input[type=text]");
        if (text) text.value = value === "" || number(value) === null ? value : formatNumber(number(value));
      }
    });
    ["comment", "private_note"].forEach(function (name) {
      var field = this.form.querySelector("[name=" + name + "]");
      if (field) field.value = fields[name] || "";
    }, this);
    this.updateTotal();
  };
  Sheet.prototype.fieldsOf = function (snapshot) {
    var fields = { comment: snapshot.comment || "", private_note: snapshot.private_note || "" };
    this.criteria().forEach(function (box) {
      var key = box.getAttribute("data-criterion");
      fields["score-" + key] = snapshot.scores && snapshot.scores[key] !== undefined ? snapshot.scores[key] : "";
    });
    return fields;
  };

  Sheet.prototype.total = function (fields) {
    var sum = 0, weights = 0, complete = true;
    this.criteria().forEach(function (box) {
      var value = number(fields["score-" + box.getAttribute("data-criterion")]);
      var w = number(box.getAttribute("data-weight")), lo = number(box.getAttribute("data-min")), hi = number(box.getAttribute("data-max"));
      weights += w;
      if (value === null) { complete = false; return; }
      sum += w * (value - lo) / (hi - lo);
    });
    return complete && weights > 0 ? 100 * sum / weights : null;
  };
  Sheet.prototype.updateTotal = function () {
    var out = this.form.querySelector("[data-total]");
    var hint = this.form.querySelector("[data-total-hint]");
    var total = this.total(this.collect());
    if (out) out.textContent = total === null ? "–" : formatNumber(total, 1);
    if (hint) hint.hidden = total !== null;
  };

  function describedBy(el, id, add) {
    var ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (t) { return t && t !== id; });
    if (add) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" ")); else el.removeAttribute("aria-describedby");
  }

  Sheet.prototype.clearErrors = function () {
    Array.prototype.forEach.call(this.form.querySelectorAll("[data-js-error]"), function (el) {
      Array.prototype.forEach.call(document.querySelectorAll("[aria-describedby~='" + el.id + "']"), function (target) {
        describedBy(target, el.id, false);
      });
      el.remove();
    });
    Array.prototype.forEach.call(this.form.querySelectorAll("[aria-invalid=true]"), function (el) { el.removeAttribute("aria-invalid"); });
  };
  Sheet.prototype.showErrors = function (errors) {
    this.clearErrors();
    Object.keys(errors).forEach(function (name) {
      var box = this.form.querySelector("#f-" + name);
      if (!box) return;
      var p = document.createElement("p");
      p.className = "field-error";
      p.id = "f-" + name + "-error";
      var earlier = document.getElementById(p.id);  // the server's message from a plain post
      if (earlier) earlier.remove();
      p.setAttribute("data-js-error", "");
      p.textContent = errors[name];
      var legend = box.querySelector("legend") || box.querySelector("label");
      if (legend && legend.parentNode === box) { legend.insertAdjacentElement("afterend", p); } else { box.insertAdjacentElement("beforebegin", p); }
      // The message belongs to the field: read out with it, and the field marked invalid.
      var input = box.querySelector("input.score-input, textarea, input[type=text]");
      describedBy(box, p.id, true);
      if (input) { describedBy(input, p.id, true); input.setAttribute("aria-invalid", "true"); }
      else box.setAttribute("aria-invalid", "true");
    }, this);
  };

  Sheet.prototype.changed = function () {
    if (this.readOnly) return;
    this.updateTotal();
    if (this.form.getAttribute("data-status") === "submitted") {
      // A submitted sheet changes only when submitted again (the server refuses anything else).
      this.say(this.text("resubmit"), "pending");
      return;
    }
    var item = pendingFor(this.url);
    setPending(this.url, { version: item && this.blocked ? item.version : this.version(), fields: this.collect(), at: Date.now() });
    if (!this.blocked) this.say(this.text("pending"), "pending");
    this.schedule(DELAY);
  };
  Sheet.prototype.schedule = function (ms) { this.delay.later(ms); };

  Sheet.prototype.send = function () {
    var self = this;
    if (this.inflight) return this.inflight;
    if (this.blocked || this.readOnly) return Promise.resolve();
    var item = pendingFor(this.url);
    if (!item) return Promise.resolve();
    this.delay.cancel();
    this.say(this.text("saving"), "saving");
    this.inflight = post(this.url, item.fields, item.version).then(function (result) {
      self.answer(result, item);
    }, function () {
      self.say(self.text("offline"), "offline");
      self.schedule(RETRY);
    }).then(function () { self.inflight = null; });
    return this.inflight;
  };

  Sheet.prototype.answer = function (result, item) {
    var outcome = AJ.outcome(result), data = result.body;
    if (outcome === "saved" && data.ok) {
      this.setVersion(data.version);
      this.clearErrors();
      var now = pendingFor(this.url);
      if (now && !sameFields(now.fields, item.fields)) {
        now.version = data.version;
        setPending(this.url, now);
        this.schedule(300);
        this.say(this.text("pending"), "pending");
      } else {
        setPending(this.url, null);
        var time = new Intl.DateTimeFormat(lang(), { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date());
        this.say(this.text("saved-at").replace("{time}", time), "saved");
      }
      this.form.setAttribute("data-status", data.status);
    } else if (outcome === "stale") {
      this.conflict(item, data.current);
    } else if (outcome === "refused" && data.error === "submitted") {
      setPending(this.url, null);
      this.form.setAttribute("data-status", "submitted");
      this.say(data.message || this.text("resubmit"), "error");
    } else if (outcome === "refused" && data.error === "read_only") {
      setPending(this.url, null);
      this.readOnly = true;
      this.say(data.message || this.text("readonly"), "error");
    } else if (outcome === "invalid" && data.errors) {
      this.showErrors(data.errors);
      this.say(this.text("invalid"), "error");
    } else if (outcome === "signedout") {
      this.say(this.text("signin"), "error");
      this.schedule(RETRY * 2);
    } else {
      this.say(this.text("offline"), "offline");
      this.schedule(RETRY);
    }
  };

  Sheet.prototype.describe = function (list, fields) {
    list.textContent = "";
    var add = function (term, value) {
      var div = document.createElement("div");
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = term;
      dd.textContent = value === "" || value === null || value === undefined ? "–" : value;
      div.appendChild(dt);
      div.appendChild(dd);
      list.appendChild(div);
    };
    this.criteria().forEach(function (box) {
      var legend = box.querySelector("legend");
      var value = fields["score-" + box.getAttribute("data-criterion")];
      add(legend ? legend.firstChild.textContent.trim() : box.getAttribute("data-criterion"), number(value) === null ? "" : formatNumber(number(value)));
    });
    var total = this.total(fields);
    add(this.text("total"), total === null ? "" : formatNumber(total, 1));
    add(this.text("comment"), fields.comment);
    add(this.text("note"), fields.private_note);
  };

  Sheet.prototype.conflict = function (item, current) {
    var self = this;
    if (!this.panel) return;
    this.blocked = true;
    var theirs = this.fieldsOf(current);
    this.describe(this.panel.querySelector("[data-mine]"), item.fields);
    this.describe(this.panel.querySelector("[data-theirs]"), theirs);
    this.panel.hidden = false;
    this.panel.focus();
    this.say(this.text("conflict"), "error");
    this.panel.querySelector("[data-keep-mine]").onclick = function () {
      var mine = pendingFor(self.url) || item;
      mine.version = current.version;
      setPending(self.url, mine);
      self.setVersion(current.version);
      self.apply(mine.fields);
      self.blocked = false;
      self.panel.hidden = true;
      self.send();
    };
    this.panel.querySelector("[data-take-theirs]").onclick = function () {
      setPending(self.url, null);
      self.setVersion(current.version);
      self.apply(theirs);
      self.blocked = false;
      self.panel.hidden = true;
      self.say(self.text("saved"), "saved");
    };
  };

  Sheet.prototype.bind = function () {
    var self = this;
    this.updateTotal();
    if (this.readOnly) { setPending(this.url, null); return; }
    this.form.addEventListener("change", function () { self.changed(); });
    this.form.addEventListener("input", function (event) {
      if (event.target.tagName === "TEXTAREA" || event.target.type === "text") self.changed();
    });
    this.form.addEventListener("submit", function (event) {
      if (self.blocked) { event.preventDefault(); self.panel.focus(); return; }
      if (!navigator.onLine) { event.preventDefault(); self.say(self.text("offline"), "offline"); return; }
      self.delay.cancel(); // the post carries the same changes; an autosave on its way would make it stale
      if (self.inflight) {
        event.preventDefault();
        var submitter = event.submitter;
        self.inflight.then(function () {
          if (!self.blocked) { if (self.form.requestSubmit) { self.form.requestSubmit(submitter); } else { self.form.submit(); } }
        });
      }
    });
    // Changes kept from an earlier visit (or from before the network went away).
    var item = pendingFor(this.url);
    if (item) {
      var shown = this.collect();
      if (item.version === this.version()) {
        this.apply(item.fields);
        this.say(this.text("pending"), "pending");
        this.send();
      } else if (sameFields(item.fields, shown)) {
        setPending(this.url, null);
      } else {
        this.apply(item.fields);
        this.conflict(item, { version: this.version(), scores: scoresOf(shown), comment: shown.comment, private_note: shown.private_note });
      }
    }
  };

  function scoresOf(fields) {
    var scores = {};
    Object.keys(fields).forEach(function (name) {
      if (name.indexOf("score-") === 0 && fields[name] !== "") scores[name.slice(6)] = String(number(fields[name]));
    });
    return scores;
  }

  // Changes kept for sheets that are not on this page (the live page moved on): sent quietly.
  function flushOthers() {
    keeper.urls().forEach(function (url) {
      if (sheets.some(function (s) { return s.url === url && document.body.contains(s.form); })) return;
      var item = pendingFor(url);
      if (!item) return;
      post(url, item.fields, item.version).then(function (result) {
        var ok = result.status >= 200 && result.status < 300;
        // saved, or never to be saved (submitted or closed meanwhile): nothing left to send
        if (ok || result.body.error === "submitted" || result.body.error === "read_only") {
          var now = pendingFor(url);
          if (now && sameFields(now.fields, item.fields)) setPending(url, null);
        }
      }, function () { /* still offline: next time */ });
    });
  }

  function init(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("form[data-sheet]"), function (form) {
      if (form.__sheet) return;
      form.__sheet = new Sheet(form);
      sheets.push(form.__sheet);
    });
  }
  function flushAll() {
    return Promise.all(sheets.filter(function (s) { return document.body.contains(s.form); }).map(function (s) { return s.send(); }));
  }

  window.addEventListener("online", function () {
    sheets.forEach(function (s) { if (document.body.contains(s.form)) s.send(); });
    flushOthers();
  });
  setInterval(flushOthers, 15000);
  window.AwardJurySheets = { init: init, flushAll: flushAll };
  init(document);
  flushOthers();
})();
