/* Itaku: the little script the pages need (served by the app; no inline script).
   A form (or the button that sends it) with data-confirm asks first. */
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

/* A table wider than the window scrolls sideways inside its .table-responsive
   wrapper. Keyboard users can scroll it only once it has focus, so a wrapper
   that scrolls becomes focusable, a group named by the table's caption (WCAG
   2.1.1; axe "scrollable-region-focusable"). A group, not a region: the
   section around the table is already the landmark of that name. One that
   fits stays out of the tab order. */
(function () {
  var named = 0;
  function update() {
    document.querySelectorAll(".table-responsive").forEach(function (wrapper) {
      var scrolls = wrapper.scrollWidth > wrapper.clientWidth;
      if (scrolls && !wrapper.hasAttribute("tabindex")) {
        var caption = wrapper.querySelector("caption");
        if (caption) {
          caption.id = caption.id || "table-caption-" + (++named);
          wrapper.setAttribute("aria-labelledby", caption.id);
        }
        wrapper.setAttribute("role", "group");
        wrapper.setAttribute("tabindex", "0");
      } else if (!scrolls && wrapper.hasAttribute("tabindex")) {
        wrapper.removeAttribute("tabindex");
        wrapper.removeAttribute("role");
        wrapper.removeAttribute("aria-labelledby");
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", update);
  } else {
    update();
  }
  window.addEventListener("resize", update);
})();

/* Lists on a phone (issue 20). The filter panel (<details open>, see
   templates/_macros/lists.html) folds on a narrow screen unless a filter is in
   use; without this script it stays open. And a register list shown as cards
   (display: block / flex in itaku.css) keeps its table semantics: some
   browsers drop them when a table is no longer displayed as one, so the roles
   are stated. */
(function () {
  function setUp() {
    if (window.matchMedia("(max-width: 767.98px)").matches) {
      document.querySelectorAll("details.filter-panel[open]:not([data-active])").forEach(function (panel) {
        panel.removeAttribute("open");
      });
    }
    document.querySelectorAll("table.register-list").forEach(function (table) {
      table.setAttribute("role", "table");
      table.querySelectorAll(":scope > thead, :scope > tbody").forEach(function (group) {
        group.setAttribute("role", "rowgroup");
      });
      table.querySelectorAll(":scope > thead > tr, :scope > tbody > tr").forEach(function (row) {
        row.setAttribute("role", "row");
      });
      table.querySelectorAll(":scope > thead > tr > th").forEach(function (cell) {
        cell.setAttribute("role", "columnheader");
      });
      table.querySelectorAll(":scope > tbody > tr > td").forEach(function (cell) {
        cell.setAttribute("role", "cell");
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
