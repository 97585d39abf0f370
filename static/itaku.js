/* Itaku: the little script the pages need (served by the app; no inline script).
   A form with data-confirm asks before it is sent. */
document.addEventListener("submit", function (event) {
  var message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
