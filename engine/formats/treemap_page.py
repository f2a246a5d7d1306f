"""The HTML, CSS and JS of the treemap page; treemap.treemap_html puts the data at /*DATA*/.

Everything is inline: the page fetches nothing. The data is {names, tree, source, tick} with
tree nodes as [name index, type letter, koid, area, children?]. The JS draws a squarified,
zoomable treemap (click a box to zoom in, click the zoomed box's caption or a breadcrumb to
zoom out; `#zoom=p/<koid>` or `#zoom=j/<koid>` zooms at load) and treemap.py's table for the
zoomed subtree, largest first, with a row cap so a 45,000-node tree stays responsive.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Memory usage</title>
<style>
body { font-family: sans-serif; font-size: 0.8em; margin: 2ex 4ex; }
h1 { font-weight: normal; }
#crumbs { margin: 1ex 0; font-size: 1.1em; }
#crumbs .crumb { cursor: pointer; color: RGB(0, 114, 178); }
#crumbs .crumb:hover { text-decoration: underline; }
#crumbs .here { font-weight: bold; }
#map { width: 100%; max-width: 1400px; height: 600px; position: relative; cursor: pointer;
       user-select: none; background: #fff; }
.box { position: absolute; box-sizing: border-box; overflow: hidden; border: 1px solid #777;
       font-size: 11px; line-height: 14px; }
.box .cap { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding: 0 2px; }
.box.top > .cap { font-weight: bold; background: #333; color: #fff; }
.b-k { background: #e4e4e4; } .b-j { background: #f6d2b8; } .b-p { background: #c4dcef; }
.b-v { background: #c2e9dc; } .b-x { background: #f4f4f4; }
.treemap-node-type { font-weight: bold; }
/* Colorblind-safe colors, as treemap.py uses them. */
.treemap-node-type-k { color: black; }
.treemap-node-type-j { color: RGB(213, 94, 0); }
.treemap-node-type-p { color: RGB(0, 114, 178); }
.treemap-node-type-v { color: RGB(0, 158, 115); }
.box.top > .cap .treemap-node-type { color: #fff; }
table#tree { border-collapse: collapse; border-spacing: 0; }
table#tree tr:nth-child(even) { background-color: #eee; }
table#tree tr:nth-child(odd) { background-color: #fff; }
table#tree tr:hover { background-color: #ff8; }
table#tree td { text-align: right; padding-left: 1em; padding-right: 1em;
  font-family: Consolas, Monaco, Lucida Console, Liberation Mono, DejaVu Sans Mono,
    Bitstream Vera Sans Mono, Courier New, monospace; }
table#tree td.name { text-align: left; }
table#tree .indent { color: #bbb; }
</style>
</head>
<body>
<h1>Memory usage</h1>
<p id="source"></p>
<p>Click on a box to zoom in. Click on the zoomed box's header or on a breadcrumb to zoom out.</p>
<div id="crumbs"></div>
<div id="map"></div>
<ul style="list-style: none">
<li><span class="treemap-node-type treemap-node-type-k">K</span>: Kernel memory
<li><span class="treemap-node-type treemap-node-type-j">J</span>: Job
<li><span class="treemap-node-type treemap-node-type-p">P</span>: Process
<li><span class="treemap-node-type treemap-node-type-v">V</span>: VMO
<ul style="list-style: none">
<li>VMO names with <b>[<i>n</i>]</b> suffixes are aggregates of <i>n</i> VMOs that have the
same name.
</ul>
</ul>
<hr>
<table id="tree">
<thead><tr><th>Name</th><th>Size<br>(bytes/1024^n)</th><th>Size (bytes)</th>
<th>Fraction of parent</th><th>Fraction of total</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<p id="more"></p>
<script>var kData = /*DATA*/null;</script>
<script>
(function () {
  "use strict";
  var MAX_ROWS = 5000, MAX_DEPTH = 3, CAPTION = 14;
  var byId = {};

  function build(a, parent) {
    var n = {name: kData.names[a[0]], type: a[1], koid: a[2], area: a[3], parent: parent,
             kids: []};
    if (n.type === "j" || n.type === "p") byId[n.type + "/" + n.koid] = n;
    var kids = a[4] || [];
    for (var i = 0; i < kids.length; i++) n.kids.push(build(kids[i], n));
    n.kids.sort(function (x, y) { return y.area - x.area; });
    return n;
  }
  var root = build(kData.tree, null), current = root;

  // treemap.py's format_size, step for step.
  function formatSize(n) {
    var units = "BkMGTPE", ui = 0, r = 0, whole = true;
    while (n >= 10000 || (n !== 0 && n % 1024 === 0)) {
      ui++;
      if (n % 1024 !== 0) whole = false;
      r = ((n % 1024) + 1024) % 1024;
      n = Math.floor(n / 1024);
    }
    if (whole) return n + units[ui];
    r = Math.floor(r / 100) + ((r % 100) >= 50 ? 1 : 0);
    if (r === 10) { n += 1; r = 0; }
    return n + "." + r + units[ui];
  }

  function esc(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function labelHtml(n) {
    var tag = "";
    if (n.type) {
      var t = n.type[0];
      tag = '<span class="treemap-node-type treemap-node-type-' + t + '">' +
        t.toUpperCase() + "</span> ";
    }
    if (n.name === "" || n.name === "<unnamed>") {
      return tag + "<i>UNNAMED</i> [koid " + n.koid + "]";
    }
    return tag + esc(n.name);
  }

  function worst(sum, min, max, side) {
    var s2 = sum * sum, w2 = side * side;
    return Math.max(w2 * max / s2, s2 / (w2 * min));
  }

  // Squarified layout of nodes (largest first) into a rectangle.
  function squarify(nodes, x, y, w, h) {
    var out = [], items = [], total = 0, i;
    for (i = 0; i < nodes.length; i++) {
      if (nodes[i].area > 0) { items.push(nodes[i]); total += nodes[i].area; }
    }
    if (!total || w <= 0 || h <= 0) return out;
    var scale = w * h / total;
    i = 0;
    while (i < items.length) {
      var side = Math.min(w, h), start = i, sum = 0, min = Infinity, max = 0, cur = Infinity;
      while (i < items.length) {
        var a = items[i].area * scale, s = sum + a;
        var mn = Math.min(min, a), mx = Math.max(max, a), r = worst(s, mn, mx, side);
        if (i > start && r > cur) break;
        sum = s; min = mn; max = mx; cur = r; i++;
      }
      var thick = sum / side, off = 0;
      for (var j = start; j < i; j++) {
        var len = items[j].area * scale / thick;
        if (w >= h) out.push({node: items[j], x: x, y: y + off, w: thick, h: len});
        else out.push({node: items[j], x: x + off, y: y, w: len, h: thick});
        off += len;
      }
      if (w >= h) { x += thick; w -= thick; } else { y += thick; h -= thick; }
    }
    return out;
  }

  function box(n, x, y, w, h, depth, parentEl) {
    var d = document.createElement("div");
    d.className = "box b-" + (n.type ? n.type[0] : "x") + (depth === 0 ? " top" : "");
    d.style.left = x + "px"; d.style.top = y + "px";
    d.style.width = w + "px"; d.style.height = h + "px";
    d.title = n.name + " (" + formatSize(n.area) + ")";
    var cap = document.createElement("div");
    cap.className = "cap";
    cap.innerHTML = labelHtml(n) + " (" + formatSize(n.area) + ")";
    d.appendChild(cap);
    d.addEventListener("click", function (ev) {
      ev.stopPropagation();
      if (n !== current) zoom(n);
      else if (n.parent && cap.contains(ev.target)) zoom(n.parent);
    });
    parentEl.appendChild(d);
    if (depth < MAX_DEPTH && n.kids.length && w > 24 && h > CAPTION + 10) {
      var rects = squarify(n.kids, 1, CAPTION, w - 4, h - CAPTION - 3);
      for (var i = 0; i < rects.length; i++) {
        var r = rects[i];
        if (r.w >= 3 && r.h >= 3) box(r.node, r.x, r.y, r.w, r.h, depth + 1, d);
      }
    }
  }

  function renderMap() {
    var map = document.getElementById("map");
    map.textContent = "";
    box(current, 0, 0, map.clientWidth, map.clientHeight, 0, map);
  }

  function renderCrumbs() {
    var chain = [], n, el = document.getElementById("crumbs");
    for (n = current; n; n = n.parent) chain.unshift(n);
    el.textContent = "";
    chain.forEach(function (c, i) {
      if (i) el.appendChild(document.createTextNode(" \u203a "));
      var s = document.createElement("span");
      s.className = c === current ? "here" : "crumb";
      s.innerHTML = labelHtml(c);
      if (c !== current) s.addEventListener("click", function () { zoom(c); });
      el.appendChild(s);
    });
  }

  function fraction(area, whole) {
    var f = whole ? area / whole : 0;
    return "<td>" + (f * 100).toFixed(3) + '%&nbsp;<progress value="' + f + '"></progress></td>';
  }

  function renderTable() {
    var html = [], count = 0, hidden = 0;
    function row(n, depth) {
      if (count >= MAX_ROWS) { hidden++; return; }
      count++;
      var indent = new Array(depth + 1).join("|&nbsp;&nbsp;");
      html.push('<tr><td class="name"><span class="indent">' + indent + "</span>" +
        labelHtml(n) + "</td><td>" + formatSize(n.area) + "</td><td>" + n.area + "</td>" +
        (n.parent ? fraction(n.area, n.parent.area) + fraction(n.area, root.area)
                  : "<td></td><td></td>") + "</tr>");
      for (var i = 0; i < n.kids.length; i++) row(n.kids[i], depth + 1);
    }
    row(current, 0);
    document.getElementById("rows").innerHTML = html.join("");
    document.getElementById("more").textContent = hidden ?
      hidden + " more rows: zoom in to see them." : "";
  }

  function zoom(n) {
    current = n;
    var id = (n.type === "j" || n.type === "p") ? "#zoom=" + n.type + "/" + n.koid : "";
    if (location.hash !== id) {
      try { history.replaceState(null, "", id || location.pathname); } catch (e) { /* file: */ }
    }
    renderCrumbs(); renderMap(); renderTable();
  }

  function fromHash() {
    var m = /^#zoom=([jp]\/\d+)$/.exec(location.hash);
    return (m && byId[m[1]]) || root;
  }

  document.getElementById("source").textContent =
    "Source: " + kData.source + ", tick " + kData.tick + ".";
  window.addEventListener("hashchange", function () { zoom(fromHash()); });
  window.addEventListener("resize", renderMap);
  zoom(fromHash());
})();
</script>
</body>
</html>
"""
