// The metrics filter bar: keep the URL that htmx pushes short and shareable.
// Empty dropdowns ("All") and the custom dates of a preset range are left out.
(function () {
  "use strict";
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
})();
