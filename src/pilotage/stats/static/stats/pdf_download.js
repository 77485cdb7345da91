/* PDF downloads that take seconds (the regional synthesis, the territory sheet): instead of a page that seems frozen,
   the link says the PDF is being prepared (a <progress> bar without value and the seconds elapsed, read out politely
   by screen readers), fetches it, then hands it to the browser as a download. Without JavaScript, or with a
   modifier key (new tab…), the link is an ordinary download. The texts come from the link's data attributes. */
(function () {
  "use strict";
  function statusOf(link) {
    var status = link.parentNode.querySelector("[data-pil-pdf-status]");
    if (!status) {
      status = document.createElement("span");  // inside the link's paragraph
      status.className = "pil-pdf-status fr-text--sm fr-mt-1w";
      status.setAttribute("data-pil-pdf-status", "");
      status.setAttribute("role", "status");
      status.setAttribute("aria-live", "polite");
      link.insertAdjacentElement("afterend", status);
    }
    return status;
  }
  function show(status, text, busy) {
    status.textContent = "";
    if (busy) {
      var bar = document.createElement("progress");
      bar.className = "pil-pdf-progress";
      bar.setAttribute("aria-hidden", "true");
      status.appendChild(bar);
    }
    var span = document.createElement("span");
    span.textContent = text;
    status.appendChild(span);
    return span;
  }
  function filenameOf(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="?([^";]+)"?/.exec(header);
    return match ? match[1] : fallback;
  }
  document.querySelectorAll("a[data-pil-pdf]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0) { return; }
      event.preventDefault();
      if (link.dataset.pilBusy) { return; }
      link.dataset.pilBusy = "1";
      link.setAttribute("aria-busy", "true");
      var status = statusOf(link);
      var started = Date.now();
      var text = show(status, link.dataset.pilPdfBusy, true);
      var timer = window.setInterval(function () {
        text.textContent = link.dataset.pilPdfBusy + " (" + Math.round((Date.now() - started) / 1000) + " s)";
      }, 1000);
      fetch(link.href, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          var name = filenameOf(response, "document.pdf");
          return response.blob().then(function (blob) { return [blob, name]; });
        })
        .then(function (result) {
          var url = URL.createObjectURL(result[0]);
          var save = document.createElement("a");
          save.href = url;
          save.download = result[1];
          save.hidden = true;
          document.body.appendChild(save);
          save.click();
          save.remove();
          window.setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
          show(status, link.dataset.pilPdfDone, false);
        })
        .catch(function () { show(status, link.dataset.pilPdfFailed, false); })
        .then(function () {
          window.clearInterval(timer);
          delete link.dataset.pilBusy;
          link.removeAttribute("aria-busy");
        });
    });
  });
})();
