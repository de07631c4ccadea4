/* The staff map of reports (handlers/reports/admin.py), with Leaflet served from this server.
 *
 * #report-map carries what the page knows: data-geojson-url (the queue's filters applied)
 * or data-point (one report), data-center and data-zoom (where the city is), and
 * data-tile-url / data-attribution (the city's tiles; empty: no background at all, the pins
 * still show on a plain grid). Pins are circle markers (SVG), coloured by status, each
 * with a popup linking to its report.
 */
(function () {
  "use strict";
  var el = document.getElementById("report-map");
  if (!el || typeof L === "undefined") return;
  var status = document.getElementById("report-map-status");
  var COLORS = { received: "#b42318", in_progress: "#b54708", done: "#0b6e4f", cannot: "#52606d" };

  function say(text) { if (status) status.textContent = text; }

  function pair(value) {
    var parts = String(value || "").split(",").map(Number);
    return parts.length === 2 && isFinite(parts[0]) && isFinite(parts[1]) ? parts : null;
  }

  var center = pair(el.dataset.center) || pair(el.dataset.point) || [35.68, 139.76];
  var map = L.map(el, { zoomControl: true, attributionControl: true }).setView(center, Number(el.dataset.zoom) || 14);
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
  } else {
    el.classList.add("no-tiles");
  }

  function pin(latlng, color) {
    return L.circleMarker(latlng, { radius: 8, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.95 });
  }

  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = props.number;
    box.appendChild(link);
    [props.kind, props.status, props.received, props.place].forEach(function (line) {
      if (!line) return;
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(line));
    });
    return box;
  }

  var point = pair(el.dataset.point);
  if (point) {
    pin(point, "#b42318").addTo(map);
    return;
  }

  fetch(el.dataset.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (collection) {
      var layer = L.geoJSON(collection, {
        pointToLayer: function (feature, latlng) {
          return pin(latlng, COLORS[feature.properties.status_id] || "#1f2933");
        },
        onEachFeature: function (feature, marker) {
          marker.bindPopup(popup(feature.properties));
        }
      }).addTo(map);
      var count = collection.features.length;
      if (count) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 });
      el.dataset.pins = String(count);
      say(count ? "地図上の通報：" + count + " 件" : "地図に表示できる通報はありません（位置情報のある通報だけを表示します）。");
    })
    .catch(function (error) {
      el.dataset.pins = "error";
      say("通報を読み込めませんでした（" + error.message + "）。ページを開き直してください。");
    });
})();
