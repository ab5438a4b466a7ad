// The incident queue's area filter: by gu, or by station area (the 119 safety centre whose
// area the incident lies in: the nearest centre in a straight line, the same rule as the
// firemap's responsible station). The choice lives in the URL (?gu=…&station=…) and in
// localStorage, so a dispatcher's filter survives a reload and a bookmark.
"use strict";
const QF_STORAGE_KEY = "goldentime.queueFilter";
const M_PER_DEG = 111320;

const QueueFilter = {
  gu: "",
  station: "",
  centres: [],
  guBounds: new Map(),
  _area: new Map(), // "lat,lon" -> centre

  // Reads the saved choice (URL first, then localStorage), fills the selects, calls onChange.
  async init({ onChange, map }) {
    const params = new URLSearchParams(location.search);
    let saved = {};
    try { saved = JSON.parse(localStorage.getItem(QF_STORAGE_KEY) || "{}"); } catch (e) { saved = {}; }
    const fromUrl = params.has("gu") || params.has("station");
    this.gu = (fromUrl ? params.get("gu") : saved.gu) || "";
    this.station = (fromUrl ? params.get("station") : saved.station) || "";
    const guSelect = document.getElementById("filter-gu");
    const stationSelect = document.getElementById("filter-station");
    const [gu, centres] = await Promise.all([GT.get("/api/basemap/gu"), GT.get("/api/basemap/stations")]);
    this.centres = centres;
    for (const f of gu.features) this.guBounds.set(f.properties.name, L.geoJSON(f).getBounds());
    const names = [...this.guBounds.keys()].sort((a, b) => a.localeCompare(b, "ko"));
    GT.fill(guSelect, GT.el("option", { value: "" }, "전체 구 All gu"),
      names.map((n) => GT.el("option", { value: n }, n)));
    const byStation = new Map();
    for (const c of centres) {
      if (!byStation.has(c.fire_station)) byStation.set(c.fire_station, []);
      byStation.get(c.fire_station).push(c);
    }
    GT.fill(stationSelect, GT.el("option", { value: "" }, "전체 관할 All station areas"),
      [...byStation.keys()].sort((a, b) => a.localeCompare(b, "ko")).map((station) => GT.el("optgroup", { label: station },
        byStation.get(station).sort((a, b) => a.name.localeCompare(b.name, "ko")).map((c) => GT.el("option", { value: c.id }, c.name)))));
    if (this.gu && !this.guBounds.has(this.gu)) this.gu = "";
    if (this.station && !centres.some((c) => c.id === this.station)) this.station = "";
    guSelect.value = this.gu;
    stationSelect.value = this.station;
    const changed = () => {
      this.gu = guSelect.value; this.station = stationSelect.value;
      this.save(); this.focusMap(map); onChange();
    };
    guSelect.addEventListener("change", changed);
    stationSelect.addEventListener("change", changed);
    document.getElementById("filter-clear").addEventListener("click", () => {
      guSelect.value = ""; stationSelect.value = ""; changed();
    });
    this.save();
    if (this.active()) this.focusMap(map);
    onChange();
  },

  active() { return Boolean(this.gu || this.station); },

  save() {
    const url = new URL(location.href);
    for (const [k, v] of [["gu", this.gu], ["station", this.station]]) {
      if (v) url.searchParams.set(k, v); else url.searchParams.delete(k);
    }
    history.replaceState(history.state, "", url);
    try { localStorage.setItem(QF_STORAGE_KEY, JSON.stringify({ gu: this.gu, station: this.station })); } catch (e) { /* private mode */ }
  },

  focusMap(map) {
    if (!map) return;
    const centre = this.centres.find((c) => c.id === this.station);
    if (this.gu && this.guBounds.has(this.gu)) map.fitBounds(this.guBounds.get(this.gu));
    else if (centre) map.setView([centre.lat, centre.lon], 14);
  },

  // The safety centre whose area (nearest centre, straight line) holds lat/lon.
  areaOf(lat, lon) {
    if (!this.centres.length) return null;
    const key = `${lat},${lon}`;
    if (this._area.has(key)) return this._area.get(key);
    const k = Math.cos((lat * Math.PI) / 180);
    let best = null, bestD = Infinity;
    for (const c of this.centres) {
      const dx = (c.lon - lon) * k, dy = c.lat - lat, d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = c; }
    }
    if (best) best = { ...best, distance_m: Math.sqrt(bestD) * M_PER_DEG };
    if (this._area.size > 20000) this._area.clear();
    this._area.set(key, best);
    return best;
  },

  guOf(inc) { return inc.gu || inc.place?.gu || ""; },

  matches(inc) {
    if (this.gu && this.guOf(inc) !== this.gu) return false;
    if (this.station && this.areaOf(inc.lat, inc.lon)?.id !== this.station) return false;
    return true;
  },
};
