// Warns before an idle session ends and lets the person extend it without leaving the page.
// Without JavaScript the same form posts to /session/extend and comes back.
(function () {
  "use strict";
  var box = document.getElementById("session-warning");
  if (!box) return;
  var form = box.querySelector("form[data-extend]");
  var ended = box.querySelector("[data-ended]");
  var text = document.getElementById("session-warning-text");
  var deadline = Date.parse(box.getAttribute("data-deadline"));
  var warnMs = parseInt(box.getAttribute("data-warn-seconds"), 10) * 1000;
  var timers = [];

  function clear() { timers.forEach(clearTimeout); timers = []; }
  function show() { box.hidden = false; var b = form.querySelector("button"); if (b) b.focus(); }
  function end() {
    box.hidden = false;
    form.hidden = true;
    ended.hidden = false;
    text.textContent = text.getAttribute("data-ended-text");
  }
  function schedule() {
    clear();
    var now = Date.now();
    timers.push(setTimeout(show, Math.max(0, deadline - warnMs - now)));
    timers.push(setTimeout(end, Math.max(0, deadline - now)));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = form.querySelector("input[name=_csrf_token]").value;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": token },
    }).then(function (response) {
      if (!response.ok) { end(); return null; }
      return response.json();
    }).then(function (data) {
      if (!data) return;
      deadline = Date.parse(data.expires_at);
      box.hidden = true;
      text.textContent = text.getAttribute("data-active-text");
      box.setAttribute("data-deadline", data.expires_at);
      schedule();
    }).catch(function () { form.submit(); });
  });

  schedule();
})();
