// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Buttons with data-confirm ask before they submit.
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
  });
})();
