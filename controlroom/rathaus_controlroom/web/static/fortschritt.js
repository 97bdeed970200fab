// Live progress of a run page: polls the run's state and updates the progress region (role="status").
// The page works without this script; when the run has finished, the page reloads (without the start's
// notice) to show its artifacts.
(function () {
  "use strict";
  var region = document.getElementById("fortschritt");
  if (!region || region.dataset.finished === "ja") { return; }
  var labels = {
    queued: "Wartet auf einen Runner", running: "Läuft", succeeded: "Beendet",
    failed: "Fehlgeschlagen", cancelled: "Abgebrochen"
  };
  var url = "/laeufe/" + region.dataset.run + "/fortschritt";
  function update() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var bar = document.getElementById("fortschritt-balken");
        document.getElementById("faelle-erledigt").textContent = data.cases_done;
        document.getElementById("faelle-gesamt").textContent = data.cases_total;
        bar.max = data.cases_total || 1;
        bar.value = data.cases_total ? data.cases_done : 0;
        var state = document.getElementById("lauf-status");
        if (state.dataset.state !== data.state) {
          state.dataset.state = data.state;
          state.textContent = labels[data.state] || data.state;
          state.className = "state state-" + data.state;
        }
        if (["succeeded", "failed", "cancelled"].indexOf(data.state) >= 0) {
          // without the notice of the start ("wartet auf einen Runner"), which no longer holds
          window.location.replace(window.location.pathname);
          return;
        }
        window.setTimeout(update, 2000);
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  window.setTimeout(update, 2000);
})();
