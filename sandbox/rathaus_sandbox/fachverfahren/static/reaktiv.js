// Imitates React's value tracking: a value set by script through the element's own property is
// remembered, and an input/change/click event only counts when the current value differs from it.
(function () {
  "use strict";
  const zustand = {};
  const ausgabe = document.getElementById("zustand");
  function eigenschaft(el) { return el.type === "checkbox" ? "checked" : "value"; }
  function nativ(el) { return Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), eigenschaft(el)); }
  document.querySelectorAll("#reaktiv input, #reaktiv select, #reaktiv textarea").forEach(function (el) {
    const beschreibung = nativ(el);
    let bekannt = String(beschreibung.get.call(el));
    Object.defineProperty(el, eigenschaft(el), {
      configurable: true,
      get: function () { return beschreibung.get.call(this); },
      set: function (wert) { bekannt = String(wert); beschreibung.set.call(this, wert); },
    });
    function pruefe() {
      const jetzt = String(beschreibung.get.call(el));
      if (jetzt === bekannt) { return; }
      bekannt = jetzt;
      zustand[el.name] = el.type === "checkbox" ? el.checked : jetzt;
      ausgabe.textContent = JSON.stringify(zustand);
    }
    el.addEventListener(el.type === "checkbox" ? "click" : "input", pruefe);
    el.addEventListener("change", pruefe);
  });
})();
