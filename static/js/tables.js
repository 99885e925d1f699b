// Sortable tables: <table class="table sortable">, header cells with data-sort="num" or
// data-sort="text", body cells with an optional data-value (the raw number behind a
// formatted one). One delegated listener, so tables swapped in by htmx sort too.
(function () {
  "use strict";

  function cellValue(row, index, numeric) {
    const cell = row.cells[index];
    if (!cell) return numeric ? -Infinity : "";
    const raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    if (!numeric) return raw.toLowerCase();
    const n = parseFloat(raw);
    return Number.isNaN(n) ? -Infinity : n;
  }

  function sortBy(th) {
    const table = th.closest("table");
    const body = table.tBodies[0];
    if (!body) return;
    const index = Array.prototype.indexOf.call(th.parentNode.cells, th);
    const numeric = th.getAttribute("data-sort") === "num";
    const current = th.getAttribute("aria-sort");
    // Numbers start with the biggest first: that is what one sorts a cost column for.
    const ascending = current ? current === "descending" : !numeric;
    const rows = Array.prototype.filter.call(body.rows, (r) => !r.classList.contains("no-sort"));
    rows.sort((a, b) => {
      const va = cellValue(a, index, numeric);
      const vb = cellValue(b, index, numeric);
      if (va < vb) return ascending ? -1 : 1;
      if (va > vb) return ascending ? 1 : -1;
      return 0;
    });
    rows.forEach((r) => body.appendChild(r));
    th.parentNode.querySelectorAll("th[aria-sort]").forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  document.addEventListener("click", (event) => {
    const th = event.target.closest && event.target.closest("table.sortable th[data-sort]");
    if (th) sortBy(th);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    const th = event.target.closest && event.target.closest("table.sortable th[data-sort]");
    if (th) {
      event.preventDefault();
      sortBy(th);
    }
  });
})();
