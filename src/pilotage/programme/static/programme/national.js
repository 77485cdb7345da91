/* A long multiple select (the ~1,250 EPCI of a perimeter) made usable: a search box listing the matching options as
   checkboxes, and the chosen ones as tags that remove them. The select stays the form's field (hidden, still sent);
   without JavaScript it is shown as it is. */
(function () {
  "use strict";

  var MAX_RESULTS = 30;

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function element(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function enhance(select) {
    var id = select.id;
    var options = Array.prototype.slice.call(select.options);
    var index = options.map(function (option) { return fold(option.text); });
    var label = document.querySelector('label[for="' + id + '"]');

    var search = element("input", {
      "class": "fr-input", type: "search", id: id + "-search", autocomplete: "off",
      "aria-controls": id + "-results", placeholder: "Metz, Val de Fensch, 200039865…"
    });
    if (label) {
      label.setAttribute("for", search.id);
      var hint = label.querySelector(".fr-hint-text");
      if (hint) { search.setAttribute("aria-describedby", hint.id || ""); }
    }
    var status = element("p", { "class": "fr-text--sm fr-mt-1w fr-mb-1w", role: "status", id: id + "-status" });
    var results = element("fieldset", { "class": "fr-fieldset pil-filter__results", id: id + "-results" });
    var legend = element("legend", { "class": "fr-sr-only" }, "Résultats de la recherche");
    results.appendChild(legend);
    var chosen = element("div", { "class": "pil-filter__selected", id: id + "-selected" });

    select.hidden = true;
    select.parentNode.insertBefore(search, select);
    select.parentNode.insertBefore(status, select);
    select.parentNode.insertBefore(results, select);
    select.parentNode.insertBefore(chosen, select);

    function showResults() {
      var query = fold(search.value.trim());
      results.querySelectorAll(".fr-fieldset__element").forEach(function (node) { node.remove(); });
      if (query.length < 2) {
        status.textContent = "Tapez au moins deux lettres du nom, ou le SIREN, pour chercher un EPCI.";
        return;
      }
      var found = [];
      for (var i = 0; i < options.length && found.length <= MAX_RESULTS; i += 1) {
        if (index[i].indexOf(query) !== -1) { found.push(i); }
      }
      var more = found.length > MAX_RESULTS;
      found = found.slice(0, MAX_RESULTS);
      status.textContent = found.length === 0 ? "Aucun EPCI ne correspond." :
        (more ? "Les " + MAX_RESULTS + " premiers EPCI correspondants (précisez la recherche) :" :
          found.length + (found.length > 1 ? " EPCI correspondent :" : " EPCI correspond :"));
      found.forEach(function (i) {
        var option = options[i];
        var box = element("div", { "class": "fr-fieldset__element" });
        var group = element("div", { "class": "fr-checkbox-group fr-checkbox-group--sm" });
        var input = element("input", { type: "checkbox", id: id + "-option-" + i });
        input.checked = option.selected;
        input.addEventListener("change", function () { option.selected = input.checked; showChosen(); });
        var region = option.parentNode.tagName === "OPTGROUP" ? " (" + option.parentNode.label + ")" : "";
        group.appendChild(input);
        group.appendChild(element("label", { "class": "fr-label", "for": input.id }, option.text + region));
        box.appendChild(group);
        results.appendChild(box);
      });
    }

    function showChosen() {
      var selected = options.filter(function (option) { return option.selected; });
      chosen.textContent = "";
      chosen.appendChild(element("p", { "class": "fr-mb-1w" },
        selected.length === 0 ? "Aucun EPCI choisi." :
          "Périmètre choisi : " + selected.length + (selected.length > 1 ? " EPCI" : " EPCI") + "."));
      if (selected.length === 0) { return; }
      var tags = element("ul", { "class": "fr-tags-group" });
      selected.forEach(function (option) {
        var item = element("li");
        var tag = element("button", {
          type: "button", "class": "fr-tag fr-tag--sm fr-tag--dismiss",
          "aria-label": "Retirer " + option.text + " du périmètre"
        }, option.text);
        tag.addEventListener("click", function () {
          option.selected = false;
          showChosen();
          showResults();
          search.focus();
        });
        item.appendChild(tag);
        tags.appendChild(item);
      });
      chosen.appendChild(tags);
    }

    search.addEventListener("input", showResults);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); }  // Enter searches, it does not submit the form
    });
    showResults();
    showChosen();
  }

  document.querySelectorAll("select[multiple][data-pil-filter]").forEach(enhance);
})();
