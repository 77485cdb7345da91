/* Pilotage maps: draw GeoJSON perimeters with Leaflet, without any tile layer (no request leaves the site).
 *
 * <div data-pil-map
 *      data-geojson-id="ID of a json_script element"   (inline data)  or  data-geojson-src="URL" (fetched)
 *      data-label-key="name"                           feature property shown in the tooltip
 *      data-feature-url="/territoires/__code__/"        optional: clicking a shape opens this URL…
 *      data-code-key="code"                            …with __code__ replaced by this property
 *      data-outlines-src="URL"                         optional: region/department outlines drawn underneath
 *      data-fit="france"                               optional: show metropolitan France instead of the shapes' bounds
 *      data-empty-message="…" data-error-message="…">
 */
(function () {
  "use strict";

  var FRANCE = [[41.3, -5.2], [51.1, 9.6]];
  var STYLE = { color: "#000091", weight: 1, opacity: 0.9, fillColor: "#6a6af4", fillOpacity: 0.35 };
  var HOVER = { weight: 2.5, fillOpacity: 0.6 };
  var OUTLINE = { color: "#929292", weight: 0.8, opacity: 1, fillColor: "#ffffff", fillOpacity: 1 };

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/geo+json, application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function drawOutlines(el, map) {
    if (!el.dataset.outlinesSrc) { return; }
    map.createPane("outlines").style.zIndex = 350;
    getJSON(el.dataset.outlinesSrc)
      .then(function (data) {
        L.geoJSON(data, { pane: "outlines", interactive: false, style: function () { return OUTLINE; } }).addTo(map);
      })
      .catch(function () { /* the outlines are context only: the perimeters stay readable without them */ });
  }

  function message(el, text) {
    var note = document.createElement("p");
    note.className = "pil-map__message fr-text--sm";
    note.textContent = text;
    el.appendChild(note);
  }

  function featureUrl(el, feature) {
    var template = el.dataset.featureUrl;
    var code = feature.properties && feature.properties[el.dataset.codeKey || "code"];
    return template && code ? template.replace("__code__", encodeURIComponent(code)) : null;
  }

  function draw(el, map, data) {
    var labelKey = el.dataset.labelKey || "name";
    var layer = L.geoJSON(data, {
      style: function () { return STYLE; },
      onEachFeature: function (feature, shape) {
        var label = feature.properties && feature.properties[labelKey];
        if (label) { shape.bindTooltip(String(label), { sticky: true }); }
        var url = featureUrl(el, feature);
        if (url) { shape.on("click", function () { window.location.href = url; }); }
        shape.on("mouseover", function () { shape.setStyle(HOVER); });
        shape.on("mouseout", function () { layer.resetStyle(shape); });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid() && el.dataset.fit !== "france") {
      map.fitBounds(bounds, { padding: [12, 12] });
    } else if (!bounds.isValid() && el.dataset.emptyMessage) {
      message(el, el.dataset.emptyMessage);
    }
    el.dataset.pilMapReady = "true";
  }

  function init(el) {
    var map = L.map(el, { zoomSnap: 0.25, scrollWheelZoom: false, attributionControl: true });
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("IGN Admin Express, Etalab");
    map.fitBounds(FRANCE);
    drawOutlines(el, map);
    if (el.dataset.geojsonId) {
      var source = document.getElementById(el.dataset.geojsonId);
      draw(el, map, JSON.parse(source.textContent));
      return;
    }
    getJSON(el.dataset.geojsonSrc)
      .then(function (data) { draw(el, map, data); })
      .catch(function () {
        el.dataset.pilMapReady = "error";
        if (el.dataset.errorMessage) { message(el, el.dataset.errorMessage); }
      });
  }

  document.querySelectorAll("[data-pil-map]").forEach(init);
})();
