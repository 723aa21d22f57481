// Draws the installation's map with the portal's own Leaflet and the configured tiles.
(function () {
  "use strict";
  const box = document.getElementById("records-map");
  if (!box || !window.L) {
    return;
  }
  const point = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lon)];
  const map = window.L.map(box).setView(point, 16);
  window.L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution }).addTo(map);
  window.L.marker(point, { keyboard: false }).addTo(map);
})();
