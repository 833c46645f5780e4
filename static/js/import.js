// The import progress page: polls the batch's status and moves the bar; opens the result
// when the import has finished. Without JavaScript the page refreshes itself instead.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bars = box.querySelectorAll("[data-bar]");
  var help = document.getElementById("queued-help");
  var resuming = document.getElementById("resuming-help");
  var pill = document.getElementById("import-state");

  function show(state) {
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var key = el.getAttribute("data-field");
      if (state[key] !== undefined && state[key] !== null) el.textContent = state[key];
    });
    bars.forEach(function (bar) {
      var value = state[bar.getAttribute("data-bar")] || 0;
      bar.querySelector("span").style.width = value + "%";
      bar.setAttribute("aria-valuenow", value);
    });
    if (help) help.hidden = state.status !== "queued";
    // Its process stopped: say so (and that a worker resumes it) instead of a frozen bar.
    if (resuming) resuming.hidden = !state.resuming;
    if (pill) pill.classList.toggle("interrupted", !!state.resuming);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) {
          window.location.assign(state.result_url || box.getAttribute("data-result-url"));
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 800);
})();
