// Pitch day: follows the round's stage through server-sent events. On a juror's page the sheet of
// the entry now on stage replaces the previous one without a reload (unsaved changes are sent
// first, or kept in the browser); on the organiser's page the jurors' sheet states stay current.
// Without JavaScript both pages work with their refresh link and buttons.
(function () {
  "use strict";
  var root = document.querySelector("[data-live], [data-live-control]");
  if (!root || !window.EventSource) return;
  var control = root.hasAttribute("data-live-control");
  var entry = root.getAttribute("data-entry") || "";
  var connection = root.querySelector("[data-connection]");
  var remaining = null, receivedAt = 0, lastPhase = null;
  var announce = document.createElement("p");
  announce.className = "visually-hidden";
  announce.setAttribute("role", "status");
  root.appendChild(announce);

  function q(selector) { return root.querySelector(selector); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(seconds) { return Math.floor(seconds / 60) + ":" + pad(seconds % 60); }

  function tick() {
    var timer = q("[data-timer]");
    if (!timer) return;
    if (remaining === null) { timer.textContent = ""; timer.classList.remove("overtime"); return; }
    var left = Math.round(remaining - (Date.now() - receivedAt) / 1000);
    if (left >= 0) {
      timer.textContent = clock(left);
      timer.classList.remove("overtime");
    } else {
      timer.textContent = "+" + clock(-left) + " " + (timer.getAttribute("data-text-over") || "");
      timer.classList.add("overtime");
    }
  }

  function showStage(data) {
    var name = q("[data-stage-name]"), title = q("[data-stage-title]"), phase = q("[data-stage-phase]");
    if (name && data.entry) name.textContent = data.entry + " – " + data.startup;
    if (title) title.textContent = data.entry ? data.title : "";
    if (phase) phase.textContent = data.phase ? (phase.getAttribute("data-text-" + data.phase) || "") : "";
    remaining = data.remaining === null || data.remaining === undefined ? null : data.remaining;
    receivedAt = Date.now();
    if (data.phase !== lastPhase && phase && data.phase) announce.textContent = phase.textContent;
    lastPhase = data.phase;
    tick();
  }

  function showJurors(data) {
    var body = q("[data-jurors]");
    if (!body || !data.jurors) return;
    body.textContent = "";
    data.jurors.forEach(function (j) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      var state = document.createElement("td");
      name.textContent = j.name;
      state.textContent = body.getAttribute("data-text-" + j.state) || j.state;
      tr.appendChild(name);
      tr.appendChild(state);
      body.appendChild(tr);
    });
  }

  function swapCurrent() {
    if (control) { window.location.reload(); return Promise.resolve(); }
    // Send what is unsaved on the sheet that leaves the screen, then fetch the page again.
    var flushed = window.AwardJurySheets ? window.AwardJurySheets.flushAll() : Promise.resolve();
    return flushed.catch(function () {}).then(function () {
      return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    }).then(function (response) { return response.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("live-current");
      var here = document.getElementById("live-current");
      if (!fresh || !here) return;
      here.innerHTML = fresh.innerHTML;
      if (window.AwardJurySheets) window.AwardJurySheets.init(here);
      var name = q("[data-stage-name]");
      if (name) announce.textContent = name.textContent;
      tick();
    });
  }

  function onStage(data) {
    var next = data.entry || "";
    if (next !== entry) {
      entry = next;
      root.setAttribute("data-entry", entry);
      swapCurrent().then(function () { showStage(data); showJurors(data); });
    } else {
      showStage(data);
      showJurors(data);
    }
    var summary = q("[data-submitted-summary]");
    if (summary && data.jurors && summary.getAttribute("data-template")) {
      summary.textContent = summary.getAttribute("data-template").replace("{done}", data.submitted).replace("{total}", data.jurors.length);
    }
  }

  // The server refuses a stream when this session already has too many open (429); EventSource
  // then gives up for good. Follow the stage by polling the JSON answer (a few seconds apart,
  // "connection lost" shown) and try a stream again now and then. At sign-out (here or in another
  // tab) the stream's last event is "signed_out", and a poll gets 401: then stop for good and say
  // so, with a link to sign in again and come back.
  var url = root.getAttribute("data-state-url");
  var source = null, polls = 0, pollTimer = null, stopped = false;
  function signedOut(signin) {
    if (stopped) return;
    stopped = true;
    if (source) source.close();
    if (pollTimer !== null) { clearTimeout(pollTimer); pollTimer = null; }
    if (!connection) return;
    connection.textContent = (connection.getAttribute("data-text-signed-out") || "") + " ";
    var link = document.createElement("a");
    link.href = signin || connection.getAttribute("data-signin-url") || "";
    link.textContent = connection.getAttribute("data-text-signin") || "";
    connection.appendChild(link);
    connection.classList.add("live-signed-out");
  }
  function poll() {
    pollTimer = null;
    if (stopped) return;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } }).then(function (response) {
      if (response.status === 401) { signedOut(null); return null; }
      if (!response.ok || (response.headers.get("content-type") || "").indexOf("json") < 0) return null;
      return response.json();
    }).then(function (data) {
      if (stopped) return;
      if (data) onStage(data);
      polls += 1;
      if (polls % 6 === 0) connect(); else pollTimer = setTimeout(poll, 5000);
    }).catch(function () { if (!stopped) pollTimer = setTimeout(poll, 5000); });
  }
  function connect() {
    if (stopped) return;
    source = new EventSource(url);
    source.addEventListener("open", function () {
      if (connection && !stopped) connection.textContent = connection.getAttribute("data-text-live");
    });
    source.addEventListener("error", function () {
      if (stopped) return;
      if (connection) connection.textContent = connection.getAttribute("data-text-lost");
      if (source.readyState === EventSource.CLOSED && pollTimer === null) pollTimer = setTimeout(poll, 5000);
    });
    source.addEventListener("stage", function (event) { onStage(JSON.parse(event.data)); });
    source.addEventListener("signed_out", function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { data = {}; }
      signedOut(data.signin || null);
    });
  }
  connect();
  setInterval(tick, 250);
})();
