// The application form: character counters, and autosave a few seconds after each change (a
// draft is saved with values that are not valid yet; their problems are shown beside the fields).
// Without JavaScript the form still works with its "Save draft" and "Submit" buttons.
// Unsaved changes are kept in this browser (localStorage) while the network is gone and sent
// when it is back. Every save carries the entry's version: when someone else saved in the
// meantime the server answers 409 and nothing is overwritten; the page then says so.
// The kept store, the save request, the delay and the status line come from autosave.js.
(function () {
  "use strict";
  var AJ = window.AwardJuryAutosave;
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var status = form.querySelector("[data-autosave-status]");
  var versionInput = form.querySelector("input[name=version]");
  var url = form.getAttribute("data-autosave");
  // Kept values are the signed-in person's (as for score sheets): on a shared device a co-editor
  // signing in after them never sees or sends them.
  var keeper = new AJ.Keeper("award_jury.entries.v1", AJ.owner(document.currentScript));
  var delay = new AJ.Delay(save);
  var saving = false;
  var dirty = false;
  var stopped = false;
  var pendingSubmit = null; // a button pressed while an autosave was on its way

  var KIND = {
    saving: "saving", saved: "saved", "saved-problems": "error", unsaved: "pending", restored: "pending",
    offline: "offline", stale: "error", closed: "error", invalid: "error", signedout: "error",
  };
  function say(name) {
    if (status) AJ.say(status, status.getAttribute("data-" + name), KIND[name]);
  }

  // Counters under text areas with a limit ("123 of 600 characters").
  form.querySelectorAll("textarea[data-counter]").forEach(function (area) {
    var out = document.getElementById(area.getAttribute("data-counter"));
    if (!out) return;
    var template = out.getAttribute("data-template");
    function update() {
      if (template) out.textContent = template.replace("{used}", area.value.length);
    }
    area.addEventListener("input", update);
  });

  function values() {
    var data = new FormData(form);
    data.delete("deck");
    data.set("action", "autosave");
    return data;
  }

  function remember() {
    var copy = {};
    values().forEach(function (value, name) {
      if (name !== "_csrf_token" && name !== "action") copy[name] = value;
    });
    keeper.set(url, copy);
  }

  function forget() {
    keeper.set(url, null);
  }

  function save() {
    if (saving || stopped || !dirty) return;
    if (!navigator.onLine) { remember(); say("offline"); return; }
    saving = true;
    dirty = false;
    say("saving");
    AJ.send(url, values()).then(function (result) {
      var outcome = AJ.outcome(result);
      if (outcome === "saved") {
        versionInput.value = result.body.version;
        forget();
        var problems = result.body.errors || {};
        showProblems(problems);
        say(Object.keys(problems).length ? "saved-problems" : "saved");
        if (dirty) schedule();
      } else if (outcome === "stale" || outcome === "refused") {
        stopped = true;
        remember();
        say(result.body.error === "stale" ? "stale" : "closed");
      } else if (outcome === "invalid") {
        say("invalid");
      } else if (outcome === "signedout") {
        stopped = true;
        remember();
        say("signedout");
      } else {
        dirty = true;
        remember();
        say("unsaved");
      }
    }).catch(function () {
      dirty = true;
      remember();
      say("offline");
    }).then(settled);
  }

  // A draft is saved even with values that are not valid yet; the answer lists every problem
  // left (the file's own problem aside: autosave sends no file), shown beside its field as the
  // server's page does, with the summary at the top kept in step.
  function control(name) { return document.getElementById("f-" + name); }
  function boxOf(el) { return el.tagName === "FIELDSET" ? el : el.closest(".field"); }
  function described(el, id, on) {
    var ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (t) { return t && t !== id; });
    if (on) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" ")); else el.removeAttribute("aria-describedby");
  }
  function clearProblem(name) {
    var el = control(name);
    var p = document.getElementById("f-" + name + "-error");
    if (p) p.remove();
    if (!el) return;
    var box = boxOf(el);
    if (box) box.classList.remove("has-error");
    described(el, "f-" + name + "-error", false);
    el.removeAttribute("aria-invalid");
  }
  function showProblem(name, message) {
    var el = control(name);
    var box = el && boxOf(el);
    if (!box) return;
    var p = document.createElement("p");
    p.className = "field-error";
    p.id = "f-" + name + "-error";
    var prefix = document.createElement("span");
    prefix.className = "visually-hidden";
    prefix.textContent = (status && status.getAttribute("data-error-prefix")) || "";
    p.appendChild(prefix);
    p.appendChild(document.createTextNode(" " + message));
    if (box === el) {  // a group (the categories): the message follows its legend
      var legend = box.querySelector("legend");
      if (legend) legend.insertAdjacentElement("afterend", p); else box.insertBefore(p, box.firstChild);
    } else {  // before the control (after its label and hint)
      var anchor = el;
      while (anchor.parentNode !== box) anchor = anchor.parentNode;
      box.insertBefore(p, anchor);
    }
    box.classList.add("has-error");
    described(el, p.id, true);
    el.setAttribute("aria-invalid", "true");
  }
  function showProblems(problems) {
    form.querySelectorAll(".field-error").forEach(function (p) {
      var name = p.id.replace(/^f-/, "").replace(/-error$/, "");
      if (name !== "deck") clearProblem(name);
    });
    Object.keys(problems).forEach(function (name) { if (name !== "deck") showProblem(name, problems[name]); });
    var summary = document.querySelector(".error-summary");
    if (!summary) return;
    var list = summary.querySelector("ul");
    list.textContent = "";
    form.querySelectorAll(".field-error").forEach(function (p) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + p.id.replace(/-error$/, "");
      link.textContent = p.lastChild ? p.lastChild.textContent.trim() : "";
      item.appendChild(link);
      list.appendChild(item);
    });
    summary.hidden = !list.children.length;
  }

  // Once the autosave's answer is in (and the version updated), send the form the person
  // asked for; sent earlier it would carry the old version and be refused as stale.
  function settled() {
    saving = false;
    if (!pendingSubmit) return;
    var button = pendingSubmit.button;
    pendingSubmit = null;
    if (form.requestSubmit) {
      form.requestSubmit(button);
    } else {
      if (button && button.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = button.name;
        hidden.value = button.value;
        form.appendChild(hidden);
      }
      form.submit();
    }
  }

  function schedule() {
    delay.later(2500);
  }

  function changed(event) {
    if (event.target && event.target.name === "deck") return;
    dirty = true;
    say("unsaved");
    remember();
    schedule();
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function (event) {
    delay.cancel();
    stopped = true;
    if (saving) {
      event.preventDefault();
      pendingSubmit = { button: event.submitter || null };
      say("saving");
    }
  });
  window.addEventListener("online", function () { if (dirty) save(); });

  // Text kept in this browser that no longer fits the saved entry (someone saved since): shown
  // read-only above the form so nothing typed is lost; it is forgotten after the next save.
  function showKept(kept) {
    var panel = document.createElement("section");
    panel.className = "panel";
    panel.setAttribute("role", "alert");
    var heading = document.createElement("h2");
    heading.textContent = status.getAttribute("data-kept-heading") || "";
    panel.appendChild(heading);
    Object.keys(kept).forEach(function (name, index) {
      var field = form.querySelector("[name='" + name.replace(/'/g, "") + "']");
      if (!field || name === "version" || field.type === "hidden" || field.type === "checkbox" || field.type === "radio") return;
      if (field.value === kept[name] || !kept[name]) return;
      var label = form.querySelector("label[for='" + field.id + "']");
      var id = "kept-" + index;
      var caption = document.createElement("label");
      caption.setAttribute("for", id);
      caption.textContent = label ? label.textContent : name;
      var text = document.createElement("textarea");
      text.id = id;
      text.readOnly = true;
      text.rows = 3;
      text.value = kept[name];
      var wrap = document.createElement("div");
      wrap.className = "field";
      wrap.appendChild(caption);
      wrap.appendChild(text);
      panel.appendChild(wrap);
    });
    if (panel.querySelectorAll("textarea").length) form.parentNode.insertBefore(panel, form);
  }

  // Values kept by earlier versions under the form's address alone ("award-jury:/entries/…")
  // cannot be told apart by person: they are dropped unread.
  try {
    for (var i = localStorage.length - 1; i >= 0; i--) {
      var name = localStorage.key(i);
      if (name && name.indexOf("award-jury:") === 0) localStorage.removeItem(name);
    }
  } catch (e) { /* storage blocked */ }

  // Changes kept from a visit without network: put them back if the entry has not changed since.
  try {
    var kept = keeper.get(url);
    if (kept && kept.version === versionInput.value) {
      Object.keys(kept).forEach(function (name) {
        if (name === "version") return;
        var fields = form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']");
        fields.forEach(function (field) {
          if (field.type === "radio" || field.type === "checkbox") field.checked = field.value === kept[name];
          else if (field.type !== "file") field.value = kept[name];
        });
      });
      dirty = true;
      say("restored");
      schedule();
    } else if (kept) {
      showKept(kept);  // the entry changed since: show the kept text to copy, overwrite nothing
    }
  } catch (e) { /* nothing kept */ }
})();
