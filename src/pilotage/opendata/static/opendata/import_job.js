/* The progress page of a web import: asks the job's state every second, shows it, and once the job is over loads
   the page again, which then shows the preview or the result. Without JavaScript the page refreshes itself. */
(function () {
  "use strict";
  var box = document.querySelector("[data-pil-job]");
  if (!box) { return; }
  var bar = document.getElementById("job-progress");
  var message = document.getElementById("job-message");
  var counts = document.getElementById("job-counts");
  var status = document.getElementById("job-status");
  var spoken = status.textContent;
  var tenth = -1;

  function say(text) {
    if (text && text !== spoken) { status.textContent = text; spoken = text; }
  }

  function show(state) {
    if (state.message) { message.textContent = state.message; }
    counts.textContent = state.counts || "";
    if (state.percent === null || state.percent === undefined) {
      bar.removeAttribute("value");
      bar.textContent = "";
    } else {
      bar.value = state.percent;
      bar.textContent = state.percent + " %";
    }
    var now = state.percent === null || state.percent === undefined ? -1 : Math.floor(state.percent / 10);
    if (now !== tenth && now > 0) { tenth = now; say(state.message + " " + state.percent + " %"); }
    else if (state.message && now < 0) { say(state.message); }
  }

  function tick() {
    fetch(box.dataset.stateUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) { window.location.replace(box.dataset.jobUrl); }
        else { window.setTimeout(tick, 1000); }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 1000);
})();
