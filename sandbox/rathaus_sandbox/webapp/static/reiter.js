// Tabs of the multi-tab forms: every input stays in the one <form>; hidden tabs are only not displayed.
(function () {
  "use strict";
  const knoepfe = document.querySelectorAll("[data-reiter]");
  function zeige(schluessel) {
    knoepfe.forEach(function (knopf) {
      const aktiv = knopf.dataset.reiter === schluessel;
      knopf.setAttribute("aria-selected", aktiv ? "true" : "false");
      document.getElementById("reiter-" + knopf.dataset.reiter).hidden = !aktiv;
    });
  }
  knoepfe.forEach(function (knopf) {
    knopf.addEventListener("click", function () { zeige(knopf.dataset.reiter); });
  });
  // A link in the error summary opens the tab of its field.
  document.querySelectorAll("#fehlerliste a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function () {
      const feld = document.getElementById(link.getAttribute("href").slice(1));
      const reiter = feld && feld.closest(".reiter");
      if (reiter) { zeige(reiter.id.replace("reiter-", "")); }
    });
  });
})();
