// The offline basemap of every console map: the whole of Seoul from the project's own data.
// Roads of the configured network at the detail the zoom asks for (city: arterials only,
// simplified; district: + collectors and ramps; street: every link), gu boundaries, and the gu
// the network does not hold (강동구) hatched with a note. Everything on canvas.
"use strict";
const SEOUL_BOUNDS = [[37.413, 126.764], [37.716, 127.184]];
const ROAD_LEVELS = [["street", 15], ["district", 13], ["city", 0]]; // [level, min zoom]
const ROAD_STYLE = {
  motorway: ["#8aa0b8", 3], trunk: ["#7d93ab", 2.6], primary: ["#61768c", 2],
  secondary: ["#4d5f72", 1.5], tertiary: ["#45566a", 1.2], minor: ["#34424f", 0.9],
};

GT.roadLevel = (zoom) => ROAD_LEVELS.find(([, min]) => zoom >= min)[0];

// Draws the whole city; `map.gt.drawn` resolves (and performance mark "gt-basemap-drawn" is
// set) once the gu boundaries and the first roads are on screen; `map.gt.network` resolves
// to GET /api/basemap/network (source, gu_missing, note, gaps).
GT.baseMap = function baseMap(elementId, { networkGaps = true, networkInfo = false } = {}) {
  performance.mark("gt-basemap-start");
  const map = L.map(elementId, { zoomControl: true, zoomSnap: 0.5 });
  map.fitBounds(SEOUL_BOUNDS);
  map.attributionControl.addAttribution("Roads: MOCT 표준노드링크 / © OSM (ODbL) · Gu: southkorea-maps");
  for (const [name, z] of [["gtRoads", 310], ["gtGu", 320], ["gtGaps", 330]]) {
    map.createPane(name).style.zIndex = z;
    map.getPane(name).style.pointerEvents = "none";
  }
  const roadsRenderer = L.canvas({ pane: "gtRoads", padding: 0.3 });
  const guRenderer = L.canvas({ pane: "gtGu", padding: 0.3 });
  const gapsRenderer = L.canvas({ pane: "gtGaps", padding: 0.3 });
  const levels = new Map(); // level -> Promise<L.GeoJSON>
  let shown = null;
  const roadLayer = (level) => {
    if (!levels.has(level)) {
      levels.set(level, GT.get(`/api/basemap/roads?level=${level}`).then((fc) => L.geoJSON(fc, {
        renderer: roadsRenderer, interactive: false,
        style: (f) => { const [color, weight] = ROAD_STYLE[f.properties.class] || ROAD_STYLE.minor; return { color, weight, opacity: 0.9 }; },
      })));
    }
    return levels.get(level);
  };
  async function showRoads() {
    const level = GT.roadLevel(map.getZoom());
    if (level === shown) return;
    shown = level;
    const layer = await roadLayer(level);
    if (shown !== level) return; // zoomed again meanwhile
    for (const [other, p] of levels) if (other !== level) p.then((l) => map.removeLayer(l)).catch(() => {});
    layer.addTo(map);
  }
  map.on("zoomend", () => showRoads().catch((e) => console.warn("basemap roads", e)));
  const gu = GT.get("/api/basemap/gu").then((fc) => L.geoJSON(fc, {
    renderer: guRenderer, interactive: false, style: { color: "#8ea4bd", weight: 1.4, fillOpacity: 0.02 },
  }).addTo(map));
  const network = GT.get("/api/basemap/network");
  if (networkGaps) network.then((info) => GT.gapsLayer(info, { renderer: gapsRenderer }).addTo(map)).catch((e) => console.warn("basemap gaps", e));
  if (networkInfo) network.then((info) => map.attributionControl.addAttribution(
    `도로망 Network: ${info.source} · ${info.nodes.toLocaleString()} nodes · ${info.links.toLocaleString()} links`)).catch(() => {});
  const drawn = Promise.all([gu, showRoads()]).then(() => new Promise((resolve) => {
    performance.mark("gt-basemap-added");
    // Leaflet's canvas redraws on the next animation frame; the one after it is on screen.
    requestAnimationFrame(() => requestAnimationFrame(() => {
      performance.mark("gt-basemap-drawn");
      resolve(performance.now());
    }));
  }));
  drawn.catch((e) => console.warn("basemap", e));
  map.gt = { drawn, network, roadLevel: () => shown };
  return map;
};

// The gu the road network does not hold: dashed outline, hatch, and a note at its centre.
GT.gapsLayer = function gapsLayer(info, { renderer = undefined, colour = "#ffbf3f", prefix = "" } = {}) {
  const group = L.layerGroup();
  for (const f of info.gaps.features) {
    const hatch = f.properties.role === "hatch";
    L.geoJSON(f, {
      renderer, interactive: false,
      style: hatch ? { color: colour, weight: 1, opacity: 0.55 } : { color: colour, weight: 2, dashArray: "6 5", fillColor: colour, fillOpacity: 0.06 },
    }).addTo(group);
    if (!hatch) {
      const note = `${prefix}${f.properties.gu} · ${f.properties.note}`;
      L.marker(f.properties.label, {
        interactive: false, keyboard: false,
        icon: L.divIcon({ className: "gap-note", html: GT.el("span", { title: f.properties.note_en }, note), iconSize: null }),
      }).addTo(group);
    }
  }
  return group;
};
