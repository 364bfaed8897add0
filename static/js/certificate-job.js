// Keeps a certificate job's progress up to date; when the PDF is ready, the page reloads to
// offer the download. Without JavaScript the page has a reload link instead.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.getAttribute("data-status") !== "running") return;
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-progress");
  var text = document.getElementById("job-text");
  var template = text.getAttribute("data-template");
  var lastDone = -1;

  function poll() {
    fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { setTimeout(poll, 3000); return; }
        bar.max = job.total || 1;
        bar.value = job.done;
        if (job.done !== lastDone) {
          lastDone = job.done;
          text.textContent = template.replace("{done}", job.done).replace("{total}", job.total);
        }
        if (job.status === "running") { setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
