/* Itaku: the little script the pages need (served by the app; no inline script).
   A form (or the button that sends it) with data-confirm asks first. */
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var message = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
