/* A form marked data-pil-loading shows that it is working once sent: its submit button is disabled (no second
   upload) and says so, and a status message (read by screen readers) appears. Checking a large file takes seconds. */
(function () {
  "use strict";
  function busy(form) {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-pil-loading-status]");
    if (button) {
      button.dataset.pilLabel = button.textContent;
      if (button.dataset.pilBusyLabel) { button.textContent = button.dataset.pilBusyLabel; }
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    }
    if (status) { status.hidden = false; }
  }
  function idle(form) {
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-pil-loading-status]");
    if (button && button.dataset.pilLabel) {
      button.textContent = button.dataset.pilLabel;
      button.disabled = false;
      button.removeAttribute("aria-disabled");
    }
    if (status) { status.hidden = true; }
  }
  document.querySelectorAll("form[data-pil-loading]").forEach(function (form) {
    form.addEventListener("submit", function () {
      // After the browser has taken the form's data: a disabled button would not be sent otherwise.
      window.setTimeout(function () { busy(form); }, 0);
    });
    // Coming back with the browser's "back" button shows the page from its cache: make it usable again.
    window.addEventListener("pageshow", function () { idle(form); });
  });
})();
