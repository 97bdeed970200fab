// Fill a whole form in ONE browser round trip (used by the WebForms keywords Fill Form and Fill Text).
//
// Called as fn(root, args): root is the form (or document), args = {fields: [[key, value], ...], mark: "..."}.
// Keys are a control's name, id or label text (label[for], wrapping label, aria-label, radio group legend).
// Values are set through the prototype's native setter (so that React-style value trackers notice the
// change) followed by bubbling input and change events; checkboxes and radios are clicked like a user would.
// Nothing is set unless every key resolves and every value fits. Messages never contain the values.
(root, args) => {
  "use strict";
  const CONTROLS = "input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset])" +
    ":not([type=image]), select, textarea";
  const TRUE = ["true", "ja", "yes", "1", "x", "an", "on", "wahr"];
  const FALSE = ["false", "nein", "no", "0", "", "aus", "off", "falsch"];
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim().replace(/[\s*:]+$/, "").trim();
  const lower = (s) => norm(s).toLocaleLowerCase("de");
  const controls = Array.from(root.querySelectorAll(CONTROLS));

  function ownText(label) {
    let text = "";
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (parent && parent !== label && parent.closest("select, textarea, option, button")) { continue; }
      text += walker.currentNode.nodeValue;
    }
    return text;
  }

  const byLabel = new Map();
  function index(text, el) {
    const key = norm(text);
    if (!key) { return; }
    const list = byLabel.get(key) || [];
    if (!list.includes(el)) { list.push(el); }
    byLabel.set(key, list);
  }
  for (const el of controls) {
    for (const label of el.labels || []) { index(ownText(label), el); }
    if (el.getAttribute("aria-label")) { index(el.getAttribute("aria-label"), el); }
    if (el.type === "radio") {
      const legend = el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
      if (legend) { index(ownText(legend), el); }
    }
  }

  function kindOf(el) {
    if (el.tagName === "SELECT") { return "select"; }
    if (el.tagName === "TEXTAREA") { return "text"; }
    if (el.type === "checkbox" || el.type === "radio" || el.type === "file") { return el.type; }
    return "text";
  }

  function describe(els) {
    return Array.from(new Set(els.map((e) => e.name || e.id || "?"))).join(", ");
  }

  // A set of elements -> a target: one control, a radio group or a checkbox group.
  function target(els, how) {
    if (els.length === 1) {
      const el = els[0];
      if (el.type === "radio" && how === "name") {
        return { kind: "radiogroup", els: radiosNamed(el.name) };
      }
      return { kind: kindOf(el), el: el };
    }
    if (els.every((e) => e.type === "radio") && new Set(els.map((e) => e.name)).size === 1) {
      return { kind: "radiogroup", els: radiosNamed(els[0].name) };
    }
    if (els.every((e) => e.type === "checkbox") && how === "name") {
      return { kind: "checkboxgroup", els: els };
    }
    return { problem: "mehrdeutig, passt auf mehrere Felder (" + describe(els) +
      "); bitte den Feldnamen (name) verwenden" };
  }

  function radiosNamed(name) {
    return controls.filter((e) => e.type === "radio" && e.name === name);
  }

  function resolve(key) {
    const named = controls.filter((e) => e.name === key);
    if (named.length) { return target(named, "name"); }
    const byId = controls.filter((e) => e.id === key);
    if (byId.length) { return target(byId, "id"); }
    let labelled = byLabel.get(norm(key));
    if (!labelled) {
      const wanted = lower(key);
      labelled = [];
      for (const [text, els] of byLabel) {
        if (text.toLocaleLowerCase("de") === wanted) { labelled.push(...els); }
      }
    }
    if (labelled.length) { return target(labelled, "label"); }
    return null;
  }

  function toBool(value) {
    if (typeof value === "boolean") { return value; }
    const text = String(value).trim().toLowerCase();
    if (TRUE.includes(text)) { return true; }
    if (FALSE.includes(text)) { return false; }
    return null;
  }

  function findOption(select, value) {
    const options = Array.from(select.options);
    const text = String(value);
    return options.find((o) => o.value === text) ||
      options.find((o) => norm(o.text) === norm(text)) ||
      options.find((o) => lower(o.text) === lower(text)) || null;
  }

  function optionList(options) {
    const shown = options.filter((o) => o.value !== "").slice(0, 25)
      .map((o) => (norm(o.text) === o.value ? o.value : o.value + " (" + norm(o.text) + ")"));
    return shown.join(", ");
  }

  function radioLabel(radio) {
    return Array.from(radio.labels || []).map(ownText).join(" ");
  }

  function locked(el) { return el.disabled || (el.readOnly && el.tagName !== "SELECT"); }

  // Pass 1: resolve every key and check every value; plan the changes.
  const unknown = [];
  const problems = {};
  const plan = [];
  const uploads = [];
  args.fields.forEach(([key, value], position) => {
    const t = resolve(key);
    if (t === null) { unknown.push(key); return; }
    if (t.problem) { problems[key] = t.problem; return; }
    const el = t.el;
    if (el && locked(el)) { problems[key] = "Feld ist gesperrt (disabled/readonly)"; return; }
    if (t.kind === "text") {
      if (typeof value === "boolean" || Array.isArray(value)) {
        problems[key] = "Textfeld erwartet einen Text, keinen Wahrheitswert oder keine Liste";
        return;
      }
      const text = String(value);
      if (el.maxLength > 0 && text.length > el.maxLength) {
        problems[key] = "Wert ist länger als erlaubt (höchstens " + el.maxLength + " Zeichen)";
        return;
      }
      plan.push({ kind: "text", el: el, value: text });
    } else if (t.kind === "select") {
      const wanted = Array.isArray(value) ? value : [value];
      if (wanted.length > 1 && !el.multiple) {
        problems[key] = "Auswahlliste erlaubt nur einen Wert";
        return;
      }
      const options = wanted.map((w) => findOption(el, w));
      if (options.includes(null)) {
        problems[key] = "keine passende Auswahl; möglich sind: " + optionList(Array.from(el.options));
        return;
      }
      plan.push({ kind: "select", el: el, options: options });
    } else if (t.kind === "checkbox" || (t.kind === "radio" && t.el)) {
      const wanted = toBool(value);
      if (wanted === null) {
        problems[key] = "Kontrollkästchen erwartet ja/nein (true/false)";
        return;
      }
      if (t.kind === "radio" && !wanted) {
        problems[key] = "ein Optionsfeld lässt sich nicht abwählen; bitte die Gruppe mit dem gewünschten Wert füllen";
        return;
      }
      plan.push({ kind: "toggle", el: el, checked: wanted });
    } else if (t.kind === "radiogroup") {
      const text = String(value);
      const radio = t.els.find((r) => r.value === text) ||
        t.els.find((r) => lower(radioLabel(r)) === lower(text));
      if (!radio) {
        problems[key] = "keine passende Option; möglich sind: " +
          t.els.map((r) => (lower(radioLabel(r)) === lower(r.value) ? r.value :
            r.value + " (" + norm(radioLabel(r)) + ")")).join(", ");
        return;
      }
      if (radio.disabled) { problems[key] = "Option ist gesperrt (disabled)"; return; }
      plan.push({ kind: "toggle", el: radio, checked: true });
    } else if (t.kind === "checkboxgroup") {
      const wanted = (Array.isArray(value) ? value : [value]).map(String);
      const matches = (c) => wanted.includes(c.value) || wanted.some((w) => lower(w) === lower(radioLabel(c)));
      if (wanted.some((w) => !t.els.some((c) => c.value === w || lower(w) === lower(radioLabel(c))))) {
        problems[key] = "mindestens ein Wert passt zu keinem Kontrollkästchen; möglich sind: " +
          t.els.map((c) => c.value).join(", ");
        return;
      }
      t.els.forEach((c) => plan.push({ kind: "toggle", el: c, checked: matches(c) }));
    } else if (t.kind === "file") {
      uploads.push({ key: key, marker: args.mark + "-" + position });
      plan.push({ kind: "mark", el: el, marker: args.mark + "-" + position });
    }
  });

  function available() {
    const seen = new Set();
    const result = [];
    for (const el of controls) {
      const name = el.name || el.id;
      if (!name || seen.has(name)) { continue; }
      seen.add(name);
      let label = "";
      if (el.type === "radio") {
        const legend = el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
        label = legend ? norm(ownText(legend)) : "";
      } else {
        label = norm(Array.from(el.labels || []).map(ownText).join(" ")) || norm(el.getAttribute("aria-label"));
      }
      result.push(label ? name + " („" + label + "“)" : name);
    }
    return result;
  }

  if (unknown.length || Object.keys(problems).length) {
    return { unknown: unknown, problems: problems, available: unknown.length ? available() : [], uploads: [] };
  }

  // Pass 2: apply.
  const setters = new Map();
  function nativeSetter(el) {
    const proto = Object.getPrototypeOf(el);
    if (!setters.has(proto)) {
      const base = el.tagName === "TEXTAREA" ? HTMLTextAreaElement.prototype :
        el.tagName === "SELECT" ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
      setters.set(proto, Object.getOwnPropertyDescriptor(base, "value").set);
    }
    return setters.get(proto);
  }
  function fire(el, data) {
    const input = typeof InputEvent === "function" && data !== undefined ?
      new InputEvent("input", { bubbles: true, composed: true, inputType: "insertReplacementText", data: data }) :
      new Event("input", { bubbles: true, composed: true });
    el.dispatchEvent(input);
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }
  const notTaken = {};
  let filled = 0;
  // Remember the form that was filled: Submit Form without arguments presses its submit button.
  const form = plan.length && plan[0].el.form;
  if (form) {
    document.querySelectorAll("form[data-rathaus-zuletzt]").forEach((f) => f.removeAttribute("data-rathaus-zuletzt"));
    form.setAttribute("data-rathaus-zuletzt", "");
  }
  for (const step of plan) {
    const el = step.el;
    if (step.kind === "text") {
      nativeSetter(el).call(el, step.value);
      fire(el, step.value);
      if (el.value !== step.value) { notTaken[el.name || el.id] = "Feld hat den Wert nicht übernommen (Format?)"; }
    } else if (step.kind === "select") {
      if (el.multiple) {
        for (const o of el.options) { o.selected = step.options.includes(o); }
      } else {
        nativeSetter(el).call(el, step.options[0].value);
      }
      fire(el);
    } else if (step.kind === "toggle") {
      if (el.checked !== step.checked) { el.click(); }
      if (el.checked !== step.checked) { notTaken[el.name || el.id] = "Klick wurde von der Seite verhindert"; }
    } else if (step.kind === "mark") {
      el.setAttribute("data-rathaus-upload", step.marker);
      continue;
    }
    filled += 1;
  }
  return { unknown: [], problems: notTaken, available: [], uploads: uploads, filled: filled };
}
