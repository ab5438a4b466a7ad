// Call intake on the board: where is the caller? A place search (GET /api/places, the Seoul
// gazetteer), a click on the map, or the phone network's fix (lat/lon with an uncertainty
// radius, drawn as a circle). A telephony screen-pop may open the board with the fix in the
// URL: /?call_lat=37.5&call_lon=127.0&call_uncertainty_m=150&call_source=aml.
"use strict";
const PLACE_KINDS = {
  station: "역 Station", landmark: "지명 Landmark", intersection: "교차로 Junction", road: "도로 Road",
  gu: "구 Gu", dong: "동 Dong", fire_station: "소방서 Fire station", safety_center: "안전센터 Safety centre",
  emergency_room: "응급실 ER", bridge: "교량 Bridge", tunnel: "터널 Tunnel", cctv: "CCTV",
  hydrant: "소화전 Hydrant", fire_device: "비상소화장치 Fire box",
};
const PLACE_DEBOUNCE_MS = 120;

const Intake = {
  map: null, marker: null, circle: null, options: [], active: -1, seq: 0, timer: null,

  init(map) {
    this.map = map;
    this.form = document.getElementById("callform");
    this.input = document.getElementById("place");
    this.list = document.getElementById("place-options");
    this.input.addEventListener("input", () => this.schedule());
    this.input.addEventListener("keydown", (e) => this.keys(e));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    // A click that picks a point for something else (an MCI's staging point) is not a call's place.
    map.on("click", (e) => { if (!GT.mapPick) this.setLocation(e.latlng.lat, e.latlng.lng, { source: "click" }); });
    for (const name of ["lat", "lon", "location_uncertainty_m"]) this.form[name].addEventListener("change", () => this.drawFix());
    this.form.addEventListener("submit", (e) => this.submit(e));
    const q = new URLSearchParams(location.search);
    if (q.has("call_lat") && q.has("call_lon")) {
      if (q.get("call_uncertainty_m")) this.form.location_uncertainty_m.value = q.get("call_uncertainty_m");
      if (LOCATION_SOURCES[q.get("call_source")]) this.form.location_source.value = q.get("call_source");
      this.setLocation(Number(q.get("call_lat")), Number(q.get("call_lon")), { zoom: 15 });
    }
  },

  schedule() {
    clearTimeout(this.timer);
    const text = this.input.value.trim();
    if (!text) { this.close(); return; }
    this.timer = setTimeout(() => this.search(text), PLACE_DEBOUNCE_MS);
  },

  async search(text) {
    const seq = ++this.seq;
    let places;
    try { places = await GT.get(`/api/places?q=${encodeURIComponent(text)}&limit=8`); }
    catch (e) { if (seq === this.seq) this.show([], `검색 불가 Search unavailable: ${e.message}`); return; }
    if (seq !== this.seq) return; // a newer keystroke's answer wins
    this.show(places, places.length ? "" : "결과 없음 · No match");
  },

  show(places, message) {
    this.options = places; this.active = places.length ? 0 : -1;
    GT.fill(this.list, places.map((p, i) => GT.el("li", {
      id: `place-opt-${i}`, role: "option", class: "place-option", "aria-selected": String(i === this.active),
      onmousedown: (e) => { e.preventDefault(); this.pick(i); },
    }, GT.el("span", { class: "place-name" }, p.name), " ",
    GT.el("span", { class: "muted small" }, `${PLACE_KINDS[p.kind] || p.kind}${p.gu ? " · " + p.gu : ""}`))),
    message ? GT.el("li", { class: "muted small", role: "presentation" }, message) : null);
    this.list.hidden = !places.length && !message;
    this.input.setAttribute("aria-expanded", String(!this.list.hidden));
    this.highlight();
  },

  highlight() {
    [...this.list.querySelectorAll("[role=option]")].forEach((li, i) => li.setAttribute("aria-selected", String(i === this.active)));
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `place-opt-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  },

  close() { this.list.hidden = true; this.input.setAttribute("aria-expanded", "false"); this.input.removeAttribute("aria-activedescendant"); },

  keys(e) {
    const open = !this.list.hidden && this.options.length;
    if (e.key === "ArrowDown" && open) { this.active = (this.active + 1) % this.options.length; this.highlight(); e.preventDefault(); }
    else if (e.key === "ArrowUp" && open) { this.active = (this.active - 1 + this.options.length) % this.options.length; this.highlight(); e.preventDefault(); }
    else if (e.key === "Enter" && open && this.active >= 0) { this.pick(this.active); e.preventDefault(); }
    else if (e.key === "Escape") { this.close(); }
  },

  pick(i) {
    const p = this.options[i];
    if (!p) return;
    this.input.value = p.name;
    this.close();
    this.setLocation(p.lat, p.lon, { zoom: 16, label: `${p.name}${p.gu ? " · " + p.gu : ""}` });
    document.getElementById("formstatus").textContent = `위치 Location: ${p.name} (${PLACE_KINDS[p.kind] || p.kind}${p.gu ? ", " + p.gu : ""})`;
  },

  setLocation(lat, lon, { zoom = null, label = null, source = null } = {}) {
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return;
    this.form.lat.value = lat.toFixed(6); this.form.lon.value = lon.toFixed(6);
    if (source === "click" && !this.form.location_source.value) this.form.location_source.value = "call_taker";
    const at = L.latLng(lat, lon);
    if (this.marker) this.marker.setLatLng(at); else this.marker = L.marker(at, { title: "신고 위치 Call location" }).addTo(this.map);
    this.marker.bindTooltip(GT.tip(label || "신고 위치 Call location"));
    this.drawFix();
    if (zoom) this.map.setView(at, Math.max(this.map.getZoom(), zoom));
  },

  // The phone network's uncertainty circle around the call position.
  drawFix() {
    const lat = Number(this.form.lat.value), lon = Number(this.form.lon.value);
    const r = Number(this.form.location_uncertainty_m.value);
    const placed = this.form.lat.value && this.form.lon.value;
    if (this.onPlace) this.onPlace(placed ? { lat, lon, radius: r > 0 ? r : 0 } : null); // e.g. a surge's hint
    if (this.circle) { this.circle.remove(); this.circle = null; }
    if (!this.form.lat.value || !this.form.lon.value || !(r > 0)) return;
    this.circle = GT.fixCircle(lat, lon, r, this.form.location_source.value).addTo(this.map);
  },

  async submit(e) {
    e.preventDefault();
    const f = this.form, out = document.getElementById("formstatus");
    const body = { type: f.type.value, lat: Number(f.lat.value), lon: Number(f.lon.value), description: f.description.value, source: "console" };
    if (f.caller.value) body.caller = f.caller.value;
    if (f.location_uncertainty_m.value) body.location_uncertainty_m = Number(f.location_uncertainty_m.value);
    if (f.location_source.value) body.location_source = f.location_source.value;
    const res = await GT.post("/api/calls", body);
    if (res.status === 202) { out.textContent = `접수됨 Accepted: ${res.data.call_id}`; f.description.value = ""; }
    else if (res.status === 422 && Array.isArray(res.data.detail)) { out.textContent = "입력 오류 Invalid: " + res.data.detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; "); }
    else { out.textContent = `오류 Error ${res.status}: ${res.data.detail}`; }
  },
};
