/* Pilotage dashboards: a choropleth of departments drawn with Leaflet, without any tile layer.
 *
 * <div data-pil-choropleth
 *      data-values-id="ID of a json_script element"  {code: {name, value, url}} for the departments to colour
 *      data-outlines-src="URL"                       department outlines (GeoJSON FeatureCollection, `code`)
 *      data-legend="…" data-error-message="…">
 * Departments absent from the values are drawn grey, as context; a click on a department opens its `url`.
 */
(function () {
  "use strict";

  // DSFR blue France, from its lightest tint to the main colour: the sequential palette of the DSFR charts.
  var LIGHT = [0xe3, 0xe3, 0xfd];
  var DARK = [0x00, 0x00, 0x91];
  var CONTEXT = { color: "#929292", weight: 0.6, fillColor: "#f6f6f6", fillOpacity: 1, interactive: false };

  function mix(t) {
    var rgb = LIGHT.map(function (from, i) { return Math.round(from + (DARK[i] - from) * t); });
    return "rgb(" + rgb.join(",") + ")";
  }

  function formatNumber(value) {
    return Number(value).toLocaleString("fr-FR");
  }

  function legend(el, min, max) {
    var box = document.createElement("div");
    box.className = "pil-legend";
    box.setAttribute("aria-hidden", "true");
    var title = document.createElement("p");
    title.className = "pil-legend__title";
    title.textContent = el.dataset.legend || "";
    var bar = document.createElement("div");
    bar.className = "pil-legend__bar";
    bar.style.background = "linear-gradient(to right," + mix(0) + "," + mix(1) + ")";
    var scale = document.createElement("p");
    scale.className = "pil-legend__scale";
    var low = document.createElement("span");
    low.textContent = formatNumber(min);
    var high = document.createElement("span");
    high.textContent = formatNumber(max);
    scale.appendChild(low);
    scale.appendChild(high);
    box.appendChild(title);
    box.appendChild(bar);
    box.appendChild(scale);
    el.parentNode.insertBefore(box, el.nextSibling);
  }

  function draw(el, map, outlines, values) {
    var numbers = Object.keys(values).map(function (code) { return values[code].value; });
    var min = numbers.length ? Math.min.apply(null, numbers) : 0;
    var max = numbers.length ? Math.max.apply(null, numbers) : 0;
    function colour(value) { return mix(max > min ? (value - min) / (max - min) : 0.5); }

    var context = { type: "FeatureCollection", features: [] };
    var shown = { type: "FeatureCollection", features: [] };
    outlines.features.forEach(function (feature) {
      (values[feature.properties.code] ? shown : context).features.push(feature);
    });
    L.geoJSON(context, { style: function () { return CONTEXT; }, interactive: false }).addTo(map);
    var layer = L.geoJSON(shown, {
      style: function (feature) {
        return { color: "#ffffff", weight: 1.2, fillOpacity: 1, fillColor: colour(values[feature.properties.code].value) };
      },
      onEachFeature: function (feature, shape) {
        var entry = values[feature.properties.code];
        shape.bindTooltip(entry.name + " : " + formatNumber(entry.value), { sticky: true });
        shape.on("click", function () { window.location.href = entry.url; });
        shape.on("mouseover", function () { shape.setStyle({ weight: 3, color: "#161616" }); });
        shape.on("mouseout", function () { layer.resetStyle(shape); });
      }
    }).addTo(map);
    if (layer.getBounds().isValid()) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); }
    legend(el, min, max);
    el.dataset.pilMapReady = "true";
  }

  function init(el) {
    var values = JSON.parse(document.getElementById(el.dataset.valuesId).textContent);
    var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: true });
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("IGN Admin Express, INSEE");
    map.fitBounds([[41.3, -5.2], [51.1, 9.6]]);
    fetch(el.dataset.outlinesSrc, { headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (outlines) { draw(el, map, outlines, values); })
      .catch(function () {
        el.dataset.pilMapReady = "error";
        var note = document.createElement("p");
        note.className = "pil-map__message fr-text--sm";
        note.textContent = el.dataset.errorMessage || "";
        el.appendChild(note);
      });
  }

  document.querySelectorAll("[data-pil-choropleth]").forEach(init);
})();
