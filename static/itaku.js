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

/* Pickers that scale (core/pickers.py, issue 20). Without JavaScript a
   picker is a short select and a search box with its own 検索 button; here
   the two become one search-as-you-type combobox, GOV.UK's
   accessible-autocomplete (static/vendor/accessible-autocomplete): the
   field's label names its input, the arrow keys and Enter choose, and a
   live region announces the results. The id chosen goes back in a hidden
   input of the field's name; the server checks it again. */
(function () {
  if (!window.accessibleAutocomplete) {
    return;
  }
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c];
    });
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function enhance(picker) {
    var select = picker.querySelector("select");
    var search = picker.querySelector(".picker-search");
    if (!select || !search) {
      return;
    }
    var data = picker.dataset;
    var chosen = select.options[select.selectedIndex];
    var current = chosen && chosen.value ? { id: chosen.value, label: chosen.getAttribute("data-label") || chosen.text } : null;
    // What describes the field (its hint, its error) is read with the usage
    // hint while the input is still empty: the library owns aria-describedby.
    var described = (select.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean).map(function (id) {
      var element = document.getElementById(id);
      return element ? element.textContent.trim() : "";
    }).join(" ");
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = select.name;
    hidden.value = current ? current.id : "";
    var container = document.createElement("div");
    container.className = "picker-combobox";
    var id = select.id;
    select.remove();
    search.remove();
    var found = picker.querySelector(".picker-found");
    if (found) {
      found.remove();
    }
    picker.appendChild(hidden);
    picker.appendChild(container);
    var confirmedLabel = current ? current.label : "";
    var request = null;
    window.accessibleAutocomplete({
      element: container,
      id: id,
      name: select.name + "-text",
      defaultValue: confirmedLabel,
      minLength: 1,
      displayMenu: "overlay",
      confirmOnBlur: false,
      inputClasses: "form-control" + (select.classList.contains("is-invalid") ? " is-invalid" : ""),
      source: function (query, populate) {
        if (request) {
          request.abort();
        }
        request = new AbortController();
        fetch(data.pickerUrl + "?q=" + encodeURIComponent(query), {
          credentials: "same-origin", headers: { "Accept": "application/json" }, signal: request.signal
        }).then(function (response) {
          return response.ok ? response.json() : { results: [] };
        }).then(function (json) {
          populate(json.results);
        }).catch(function () { /* a newer query replaced this one */ });
      },
      templates: {
        inputValue: function (choice) { return choice ? choice.label : ""; },
        suggestion: function (choice) {
          if (!choice) {
            return "";
          }
          return escapeHtml(choice.label) + (choice.hint ? " <span class=\"picker-hint\">" + escapeHtml(choice.hint) + "</span>" : "");
        }
      },
      onConfirm: function (choice) {
        if (choice) {
          hidden.value = choice.id;
          confirmedLabel = choice.label;
        }
      },
      tNoResults: function () { return data.pickerNone; },
      tStatusQueryTooShort: function () { return ""; },
      tStatusNoResults: function () { return data.pickerNone; },
      tStatusSelectedOption: function (option, length, index) {
        return fill(data.pickerSelected, { option: option, n: length, i: index + 1 });
      },
      tStatusResults: function (length, selected) {
        return fill(data.pickerResults, { n: length }) + " " + selected;
      },
      tAssistiveHint: function () { return (described ? described + " " : "") + data.pickerHint; }
    });
    var input = document.getElementById(id);
    if (input) {
      if (select.getAttribute("aria-invalid")) {
        input.setAttribute("aria-invalid", "true");
      }
      // A text that is not the chosen record's name chooses nothing (yet):
      // the field is empty until a record is chosen from the list.
      input.addEventListener("input", function () {
        if (input.value !== confirmedLabel) {
          hidden.value = "";
        }
      });
    }
  }
  function start() {
    document.querySelectorAll(".picker[data-picker-url]").forEach(enhance);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
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
