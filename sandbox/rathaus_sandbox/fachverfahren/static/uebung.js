// Counts the input and change events per field; the counts travel with the form in _ereignisse.
(function () {
  "use strict";
  const formular = document.getElementById("formular-40");
  window.ereignisse = {};
  function zaehle(art) {
    return function (ereignis) {
      const name = ereignis.target.name;
      if (!name || name.charAt(0) === "_") { return; }
      const eintrag = window.ereignisse[name] || (window.ereignisse[name] = { input: 0, change: 0 });
      eintrag[art] += 1;
    };
  }
  formular.addEventListener("input", zaehle("input"));
  formular.addEventListener("change", zaehle("change"));
  formular.addEventListener("submit", function () {
    document.getElementById("_ereignisse").value = JSON.stringify(window.ereignisse);
  });
})();
