// L.GridgisShapes: a large layer drawn on a canvas (gridgis.report.map.compact).
// One canvas per layer (a subclass of Leaflet's canvas renderer, so panning and zoom
// animation work as for any canvas): every shape in view is drawn from typed arrays in
// one pass, with no Leaflet object per feature. The mouse is followed on the map itself
// (the canvas lets events through to the sites and drawings above it).
if (!L.GridgisShapes) {
  L.GridgisShapes = L.Canvas.extend({
    options: {padding: 0.1, pane: "gridgisShapes", tolerance: 2, batch: 100},
    defaults: {stroke: true, color: "#3388ff", weight: 3, opacity: 1, lineCap: "round",
               lineJoin: "round", fill: true, fillOpacity: 0.2},

    initialize: function(data, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._d = data;
      this._hovered = -1;
      var defaults = this.defaults;
      this._styles = data.s.map(function(style) {
        var o = L.extend({}, defaults, style);
        if (typeof o.dashArray === "string") { o.dash = o.dashArray.split(/[, ]+/).map(Number); }
        if (String(o.fillColor).indexOf("url(") === 0) {
          o.fillColor = L.GridgisShapes.hatch(data.hatch);
        }
        return o;
      });
    },

    onAdd: function(map) {
      if (!map.getPane(this.options.pane)) {
        var pane = map.createPane(this.options.pane);
        pane.style.zIndex = 390;  // under the overlay pane: sites and drawings stay on top
        pane.style.pointerEvents = "none";
      }
      if (!this._p) { this._decode(map.options.crs); }
      L.Canvas.prototype.onAdd.call(this, map);
      map.on("mousemove", this._onMapMove, this);
      map.on("mouseout", this._onMapOut, this);
    },

    onRemove: function(map) {
      map.off("mousemove", this._onMapMove, this);
      map.off("mouseout", this._onMapOut, this);
      this._onMapOut();
      L.Canvas.prototype.onRemove.call(this, map);
    },

    size: function() { return this._d.f.length; },
    styleOf: function(i) { return this._styles[this._d.k[i]]; },
    getBounds: function() { return this._latLngBounds; },

    _decode: function(crs) {
      var d = this._d, q = d.q, x = d.x, y = d.y, c = d.c, n = c.length / 2;
      var px = new Float64Array(n), py = new Float64Array(n), i, j, f, r;
      for (i = 0; i < n; i++) {
        x += c[2 * i]; y += c[2 * i + 1];
        var pt = crs.latLngToPoint(L.latLng(y / q, x / q), 0);
        px[i] = pt.x; py[i] = pt.y;
      }
      var nf = d.f.length, rs = new Int32Array(d.r.length + 1), fr = new Int32Array(nf + 1);
      for (r = 0; r < d.r.length; r++) { rs[r + 1] = rs[r] + d.r[r]; }
      var part = 0, ring = 0, box = new Float64Array(4 * nf), all = L.bounds([]);
      for (f = 0; f < nf; f++) {
        fr[f] = ring;
        for (j = 0; j < d.f[f]; j++) { ring += d.p[part++]; }
        var b = [Infinity, Infinity, -Infinity, -Infinity];
        for (i = rs[fr[f]]; i < rs[ring]; i++) {
          if (px[i] < b[0]) { b[0] = px[i]; } if (py[i] < b[1]) { b[1] = py[i]; }
          if (px[i] > b[2]) { b[2] = px[i]; } if (py[i] > b[3]) { b[3] = py[i]; }
        }
        box.set(b, 4 * f);
        if (b[0] <= b[2]) { all.extend([b[0], b[1]]).extend([b[2], b[3]]); }
      }
      fr[nf] = ring;
      this._p = {x: px, y: py, rs: rs, fr: fr, box: box};
      this._latLngBounds = all.isValid() ? L.latLngBounds(crs.pointToLatLng(all.min, 0),
                                                          crs.pointToLatLng(all.max, 0))
                                         : L.latLngBounds([]);
    },

    _view: function() {
      var map = this._map, crs = map.options.crs;
      return {s: crs.scale(map.getZoom()) / crs.scale(0), o: map.getPixelOrigin()};
    },

    _updatePaths: function() {
      if (this._postponeUpdatePaths) { return; }
      this._redrawBounds = null;
      this._redraw();
    },

    // what is in view, in order; a run of shapes of one style is one path, filled and
    // stroked once (exteriors and holes wind oppositely: the nonzero rule keeps the holes)
    _draw: function() {
      if (!this._p || !this._map || !this._bounds) { return; }
      var p = this._p, box = p.box, v = this._view(), b = this._bounds, ctx = this._ctx;
      var x0 = (b.min.x + v.o.x) / v.s, y0 = (b.min.y + v.o.y) / v.s;
      var x1 = (b.max.x + v.o.x) / v.s, y1 = (b.max.y + v.o.y) / v.s;
      var run = -1, last = -1, hovered = -1, size = 0;
      ctx.save();
      for (var f = 0; f < this._d.f.length; f++) {
        if (box[4 * f] > x1 || box[4 * f + 2] < x0 || box[4 * f + 1] > y1 || box[4 * f + 3] < y0) {
          continue;
        }
        if (f === this._hovered) { hovered = f; continue; }
        var key = 2 * this._d.k[f] + this._d.l[f];
        if (key !== run || size >= this.options.batch) {  // canvas paths slow down when long
          if (run >= 0) { this._paint(last, false); }
          ctx.beginPath();
          run = key;
          size = 0;
        }
        this._trace(f, v);
        last = f;
        size++;
      }
      if (run >= 0) { this._paint(last, false); }
      if (hovered >= 0) {  // on top, highlighted
        ctx.beginPath();
        this._trace(hovered, v);
        this._paint(hovered, true);
      }
      ctx.restore();
    },

    _trace: function(f, v) {
      var p = this._p, ctx = this._ctx, closed = !this._d.l[f], i, r;
      for (r = p.fr[f]; r < p.fr[f + 1]; r++) {
        for (i = p.rs[r]; i < p.rs[r + 1]; i++) {
          ctx[i === p.rs[r] ? "moveTo" : "lineTo"](p.x[i] * v.s - v.o.x, p.y[i] * v.s - v.o.y);
        }
        if (closed) { ctx.closePath(); }
      }
    },

    // fill and stroke the current path in the style of feature `f`
    _paint: function(f, highlight) {
      var o = this.styleOf(f), ctx = this._ctx;
      if (highlight) { o = L.extend({}, o, this._d.h); }
      if (o.fill && !this._d.l[f]) {
        ctx.globalAlpha = o.fillOpacity;
        ctx.fillStyle = o.fillColor || o.color;
        ctx.fill("nonzero");
      }
      if (o.stroke && o.weight !== 0) {
        ctx.setLineDash(o.dash || []);
        ctx.globalAlpha = o.opacity;
        ctx.lineWidth = o.weight;
        ctx.strokeStyle = o.color;
        ctx.lineCap = o.lineCap;
        ctx.lineJoin = o.lineJoin;
        ctx.stroke();
      }
    },

    // the feature under a layer point: the last drawn first
    _hit: function(point) {
      var p = this._p, box = p.box, v = this._view();
      var X = (point.x + v.o.x) / v.s, Y = (point.y + v.o.y) / v.s;
      for (var f = this._d.f.length - 1; f >= 0; f--) {
        var o = this.styleOf(f), tol = ((o.weight || 0) / 2 + this.options.tolerance) / v.s;
        if (X < box[4 * f] - tol || X > box[4 * f + 2] + tol ||
            Y < box[4 * f + 1] - tol || Y > box[4 * f + 3] + tol) { continue; }
        var area = o.fill && !this._d.l[f];
        if ((area && this._inside(f, X, Y)) || this._near(f, X, Y, tol)) { return f; }
      }
      return -1;
    },

    _inside: function(f, X, Y) {
      var p = this._p, inside = false, r, i, j;
      for (r = p.fr[f]; r < p.fr[f + 1]; r++) {
        for (i = p.rs[r], j = p.rs[r + 1] - 1; i < p.rs[r + 1]; j = i++) {
          if (((p.y[i] > Y) !== (p.y[j] > Y)) &&
              (X < (p.x[j] - p.x[i]) * (Y - p.y[i]) / (p.y[j] - p.y[i]) + p.x[i])) {
            inside = !inside;
          }
        }
      }
      return inside;
    },

    _near: function(f, X, Y, tol) {
      var p = this._p, closed = !this._d.l[f], r, i, a, b;
      for (r = p.fr[f]; r < p.fr[f + 1]; r++) {
        for (i = p.rs[r] + (closed ? 0 : 1); i < p.rs[r + 1]; i++) {
          a = i === p.rs[r] ? p.rs[r + 1] - 1 : i - 1;
          b = i;
          var dx = p.x[b] - p.x[a], dy = p.y[b] - p.y[a], len = dx * dx + dy * dy;
          var t = len ? Math.max(0, Math.min(1, ((X - p.x[a]) * dx + (Y - p.y[a]) * dy) / len)) : 0;
          var ex = p.x[a] + t * dx - X, ey = p.y[a] + t * dy - Y;
          if (ex * ex + ey * ey <= tol * tol) { return true; }
        }
      }
      return false;
    },

    _onMapMove: function(e) {
      var map = this._map;
      if (!map || !this._p || map._animatingZoom || (map.dragging && map.dragging.moving())) {
        return;
      }
      var f = this._hit(e.layerPoint);
      if (f !== this._hovered) {
        this._hovered = f;
        this._requestFullRedraw();
        if (f < 0) { this._closeTip(); }
        else {
          this._tip = this._tip || L.tooltip({sticky: true, className: "gridgis-tooltip"});
          this._tip.setContent(this._tipHtml(f));
        }
      }
      if (f >= 0) {
        this._tip.setLatLng(e.latlng);
        if (!map.hasLayer(this._tip)) { map.openTooltip(this._tip); }
      }
    },

    _onMapOut: function() {
      if (this._hovered >= 0) {
        this._hovered = -1;
        this._requestFullRedraw();
      }
      this._closeTip();
    },

    _closeTip: function() {
      if (this._tip && this._map && this._map.hasLayer(this._tip)) {
        this._map.closeTooltip(this._tip);
      }
    },

    _requestFullRedraw: function() {
      if (this._map) {
        this._redrawRequest = this._redrawRequest || L.Util.requestAnimFrame(this._redraw, this);
      }
    },

    _tipHtml: function(f) {
      var rows = "";
      this._d.t.forEach(function(col) {
        rows += "<tr><th>" + col[0] + "</th><td>" + col[1][col[2][f]] + "</td></tr>";
      });
      return '<table class="gridgis-tip">' + rows + "</table>";
    }
  });

  // an SVG pattern fill (the hatch) cannot paint on a canvas: the same stripes as a pattern
  L.GridgisShapes.hatch = function(colours) {
    var tile = document.createElement("canvas"), g = tile.getContext("2d");
    tile.width = tile.height = 10;
    g.fillStyle = colours[0];
    g.fillRect(0, 0, 10, 10);
    g.strokeStyle = colours[1];
    g.lineWidth = 2.5;
    g.beginPath();
    [[-5, 5, 5, -5], [0, 10, 10, 0], [5, 15, 15, 5]].forEach(function(l) {
      g.moveTo(l[0], l[1]);
      g.lineTo(l[2], l[3]);
    });
    g.stroke();
    return g.createPattern(tile, "repeat");
  };
}
