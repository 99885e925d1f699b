// The metrics filter bar: keep the URL that htmx pushes short and shareable, and keep the
// bar in step with the URL when the browser goes back or forward.
(function () {
  "use strict";

  function bars() {
    return document.querySelectorAll("form[data-filter-bar]");
  }

  // Empty dropdowns ("All") and the custom dates of a preset range are left out of the URL.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (!form || !form.matches || !form.matches("[data-filter-bar]")) return;
    const params = event.detail.parameters;
    const custom = form.querySelector("input[name=range][value=custom]");
    const isCustom = custom && custom.checked;
    const names = [];
    for (const input of form.elements) if (input.name && names.indexOf(input.name) < 0) names.push(input.name);
    names.forEach((name) => {
      const value = params[name];
      if (value === "" || value == null || (!isCustom && (name === "from" || name === "to"))) delete params[name];
    });
  });

  // htmx restores the page body from its history cache as HTML, which does not carry the
  // controls' current values: set them from the URL again.
  function syncFromUrl() {
    const params = new URLSearchParams(location.search);
    bars().forEach((form) => {
      const range = params.get("range") || (params.get("from") ? "custom" : form.dataset.defaultRange);
      form.querySelectorAll("input[name=range]").forEach((radio) => { radio.checked = radio.value === range; });
      form.classList.toggle("has-custom", range === "custom");
      ["from", "to"].forEach((name) => {
        const input = form.querySelector(`input[name=${name}]`);
        if (input && params.get(name)) input.value = params.get(name).slice(0, 10);
      });
      form.querySelectorAll("select").forEach((select) => {
        const value = params.get(select.name) || "";
        if (value && !Array.from(select.options).some((o) => o.value === value)) select.add(new Option(value, value));
        select.value = value;
      });
      const by = form.querySelector("input[name=by]");
      if (by && params.get("by")) by.value = params.get("by");
    });
  }
  document.addEventListener("htmx:historyRestore", syncFromUrl);
  window.addEventListener("pageshow", (event) => { if (event.persisted) syncFromUrl(); });
})();
