// GridgisEdit: pick a feature by clicking it, then move its vertices or the whole shape with
// Leaflet-Geoman, snapping to the vertices and edges of everything on the map
// (gridgis.report.map.editing). Each pick and each change reaches the app as one feature of
// Leaflet.draw's group (window.drawnItems: an invisible point whose properties.gridgis says
// {op: "select" | "edit", layer, fid, rev, n, geometry}), returned by streamlit-folium in
// all_drawings like a drawing. The geometry travels in the properties at full precision
// (Leaflet's toGeoJSON would round it to 6 decimals).
if (!window.GridgisEdit) {
  window.GridgisEdit = (function() {
    var counter = 0;
    var active = null;

    function send(op, shape, info, latlng) {
      var map = window.map, items = window.drawnItems;
      if (!map || !items) { return; }
      var at = latlng || shape.getBounds().getCenter();
      var point = L.circleMarker(at, {radius: 0, opacity: 0, fillOpacity: 0, interactive: false,
                                      pmIgnore: true, snapIgnore: true});
      point.feature = {type: "Feature", properties: {gridgis: {
        op: op, layer: info.layer, fid: info.fid, rev: info.rev,
        n: String(Date.now()) + "-" + String(++counter),
        geometry: op === "edit" ? shape.toGeoJSON(false).geometry : null
      }}};
      items.addLayer(point);
      map.fire("draw:edited", {layers: items});
    }

    function stop() {
      if (active && active.pm) {
        active.pm.disable();
        if (active.pm.disableLayerDrag) { active.pm.disableLayerDrag(); }
      }
      active = null;
    }

    function start(shape, info, mode, snap) {
      if (!shape.pm) { return; }  // Leaflet-Geoman not loaded: picking still works
      if (active !== shape) { stop(); }
      active = shape;
      shape.pm.setOptions({snappable: true, snapDistance: snap, snapSegment: true,
                           allowSelfIntersection: false, draggable: true});
      if (mode === "move") { shape.pm.enableLayerDrag(); } else { shape.pm.enable(); }
      shape.off("pm:edit");
      shape.on("pm:edit", function() { send("edit", shape, info); });
    }

    // Make `shape` (one Leaflet path) pickable; start editing it at once when it is the one
    // picked on the map (`editing`: a feature chosen from a list only gets highlighted).
    function attach(shape, info, opts) {
      shape.options.snapIgnore = false;
      shape.on("click", function(e) {
        if (active === shape) { return; }
        start(shape, info, opts.mode, opts.snap);
        send("select", shape, info, e.latlng);
      });
      if (opts.editing === info.fid) {
        setTimeout(function() { if (shape._map) { start(shape, info, opts.mode, opts.snap); } }, 0);
      }
    }

    return {attach: attach, stop: stop, send: send};
  })();
}
