// Golden Time dispatcher board: live queue, incident panel, map, unit board, call intake.
"use strict";
const state = { incidents: new Map(), units: new Map(), selected: null, detail: null, panelStatus: "" };
const map = GT.baseMap("map");
const incidentLayer = L.layerGroup().addTo(map);
const unitLayer = L.layerGroup().addTo(map);
const routeLayer = L.layerGroup().addTo(map);
const coverageLayer = L.layerGroup();
L.control.layers(null, { "커버리지 공백 Coverage holes (engine, 5 min)": coverageLayer }, { collapsed: false }).addTo(map);
let coverageTimer = null;
async function refreshCoverage() {
  try {
    const c = await GT.get("/api/coverage?minutes=5&vehicle=engine");
    coverageLayer.clearLayers();
    L.geoJSON(c.holes, { style: { color: "#ff5a4f", weight: 1, fillOpacity: 0.25 } })
      .bindTooltip(`공백 hole · ${Math.round(c.covered_share * 1000) / 10}% covered by ${c.units} engines`)
      .addTo(coverageLayer);
  } catch (e) { console.warn("coverage", e); }
}
map.on("overlayadd", (e) => { if (e.layer === coverageLayer) { refreshCoverage(); coverageTimer = setInterval(refreshCoverage, 30000); } });
map.on("overlayremove", (e) => { if (e.layer === coverageLayer) { clearInterval(coverageTimer); coverageTimer = null; } });
let pickMarker = null;
const ACTIVE = new Set(["open", "dispatched", "on_scene"]);

function ageSeconds(inc) { return (Date.now() - Date.parse(inc.created_at)) / 1000; }

function goldenTime(inc) {
  // 7 minutes from the call to the first unit on scene.
  if (inc.on_scene_at) {
    const took = (Date.parse(inc.on_scene_at) - Date.parse(inc.created_at)) / 1000;
    return { text: `도착 ${GT.mmss(took)}`, cls: took <= GOLDEN_TIME_S ? "gt-ok" : "gt-breach" };
  }
  if (!ACTIVE.has(inc.status)) return { text: "—", cls: "" };
  const left = GOLDEN_TIME_S - ageSeconds(inc);
  if (left <= 0) return { text: `초과 +${GT.mmss(-left)}`, cls: "gt-breach" };
  return { text: GT.mmss(left), cls: left < 120 ? "gt-warn" : "gt-ok" };
}

function queue() {
  return [...state.incidents.values()].filter((i) => ACTIVE.has(i.status))
    .sort((a, b) => a.priority - b.priority || Date.parse(a.created_at) - Date.parse(b.created_at));
}

// What changed since the last frame: a unit's status change re-renders that unit's row and
// marker only, so a board of hundreds of incidents and units stays quick.
const dirty = { queue: false, allUnits: false, units: new Set() };
const QUEUE_RENDER_MIN_MS = 250; // the queue re-sorts hundreds of rows: at most 4 times a second
let lastQueueRender = 0;
let queueTimer = null;
let renderPending = false;
function scheduleRender({ queue = true, units = true, unitId = null } = {}) {
  if (queue) dirty.queue = true;
  if (unitId) dirty.units.add(unitId);
  else if (units) dirty.allUnits = true;
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    const { queue: q, allUnits, units: changed } = dirty;
    dirty.allUnits = false; dirty.units = new Set();
    if (q) {
      const wait = lastQueueRender + QUEUE_RENDER_MIN_MS - performance.now();
      if (wait <= 0) {
        dirty.queue = false; lastQueueRender = performance.now();
        renderQueue(); renderIncidentMarkers();
      } else if (!queueTimer) {
        queueTimer = setTimeout(() => { queueTimer = null; scheduleRender({ units: false }); }, wait);
      }
    }
    if (allUnits) { renderUnits(); for (const u of state.units.values()) renderUnitMarker(u); }
    else if (changed.size) {
      for (const id of changed) { updateUnitRow(id); renderUnitMarker(state.units.get(id)); }
      renderUnitCount();
    }
  });
}

function renderQueue() {
  const rows = queue();
  const tbody = document.getElementById("incidents");
  const focusedId = document.activeElement?.dataset?.id;
  GT.fill(tbody, ...rows.map((inc) => {
    const gt = goldenTime(inc);
    const tr = GT.el("tr", {
      class: `incident status-${inc.status}` + (inc.id === state.selected ? " selected" : ""),
      tabindex: "0", "data-id": inc.id, "aria-selected": String(inc.id === state.selected),
      onclick: () => select(inc.id), onkeydown: queueKeys,
    },
      GT.el("td", { class: `prio p${inc.priority}` }, String(inc.priority)),
      GT.el("td", { title: inc.id }, GT.typeLabel(inc.type), GT.el("div", { class: "muted small" }, inc.gu || "")),
      GT.el("td", {}, GT.statusLabel(inc.status)),
      GT.el("td", { class: "age" }, GT.mmss(ageSeconds(inc))),
      GT.el("td", { class: `gt ${gt.cls}` }, gt.text),
      GT.el("td", {}, String(inc.call_ids.length + (inc.event_ids || []).length)));
    return tr;
  }));
  document.getElementById("count").textContent = `(${rows.length})`;
  if (focusedId) tbody.querySelector(`tr[data-id="${CSS.escape(focusedId)}"]`)?.focus();
}

function tickClocks() {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString("ko-KR");
  for (const tr of document.querySelectorAll("#incidents tr")) {
    const inc = state.incidents.get(tr.dataset.id);
    if (!inc) continue;
    const gt = goldenTime(inc);
    tr.querySelector(".age").textContent = GT.mmss(ageSeconds(inc));
    const cell = tr.querySelector(".gt");
    cell.textContent = gt.text; cell.className = `gt ${gt.cls}`;
  }
}

function unitRow(u) {
  return GT.el("tr", { "data-unit": u.id },
    GT.el("td", {}, u.name),
    GT.el("td", { class: "muted" }, u.station_name),
    GT.el("td", {}, GT.el("span", { class: "dot", style: `background:${UNIT_COLOURS[u.status] || "#888"}` }), " ", GT.statusLabel(u.status)),
    GT.el("td", {}, u.incident_id ? GT.el("a", { href: "#", onclick: (e) => { e.preventDefault(); select(u.incident_id); } }, u.incident_id) : "—"));
}

function renderUnitCount() {
  const units = [...state.units.values()];
  const free = units.filter((u) => u.status === "available").length;
  document.getElementById("unitcount").textContent = `(${free}/${units.length} 대기 available)`;
}

function renderUnits() {
  GT.fill(document.getElementById("unitrows"), ...[...state.units.values()].map(unitRow));
  renderUnitCount();
}

function updateUnitRow(id) {
  const u = state.units.get(id);
  const row = document.querySelector(`#unitrows tr[data-unit="${CSS.escape(id)}"]`);
  if (!u || !row) { renderUnits(); return; }
  row.replaceWith(unitRow(u));
}

const incidentMarkers = new Map();
const unitMarkers = new Map();
function renderIncidentMarkers() {
  for (const [id, m] of incidentMarkers) {
    const inc = state.incidents.get(id);
    if (!inc || !ACTIVE.has(inc.status)) { incidentLayer.removeLayer(m); incidentMarkers.delete(id); }
  }
  for (const inc of queue()) {
    let m = incidentMarkers.get(inc.id);
    const style = { radius: inc.id === state.selected ? 11 : 8, color: "#fff", weight: 2, fillColor: INCIDENT_COLOURS[inc.status], fillOpacity: 0.9 };
    if (!m) {
      m = L.circleMarker([inc.lat, inc.lon], style).addTo(incidentLayer);
      m.on("click", () => select(inc.id));
      incidentMarkers.set(inc.id, m);
    }
    m.setStyle(style);
    m.bindTooltip(`${GT.typeLabel(inc.type)} · ${GT.statusLabel(inc.status)}`);
  }
}

function renderUnitMarker(u) {
  if (!u) return;
  let m = unitMarkers.get(u.id);
  const style = { radius: 5, color: "#0b0f14", weight: 1, fillColor: UNIT_COLOURS[u.status] || "#888", fillOpacity: 1 };
  if (!m) { m = L.circleMarker([u.lat, u.lon], style).addTo(unitLayer); unitMarkers.set(u.id, m); }
  m.setLatLng([u.lat, u.lon]); m.setStyle(style);
  m.bindTooltip(`${u.name} (${u.station_name}) · ${GT.statusLabel(u.status)}`);
}

function queueKeys(e) {
  const rows = [...document.querySelectorAll("#incidents tr")];
  const i = rows.indexOf(e.currentTarget);
  if (e.key === "ArrowDown" && rows[i + 1]) { rows[i + 1].focus(); e.preventDefault(); }
  else if (e.key === "ArrowUp" && rows[i - 1]) { rows[i - 1].focus(); e.preventDefault(); }
  else if (e.key === "Enter" || e.key === " ") { select(e.currentTarget.dataset.id); e.preventDefault(); }
}

async function select(id) {
  if (id !== state.selected) state.panelStatus = "";
  state.selected = id;
  GTMedia.follow(id);
  scheduleRender();
  await loadDetail();
  const inc = state.incidents.get(id);
  if (inc) map.setView([inc.lat, inc.lon], Math.max(map.getZoom(), 15));
}

// The firemap around the selected incident (hazards, hydrants, access), loaded once per incident.
function sceneSummary(sc) {
  const where = (h) => (h.distance_m != null ? `${Math.round(h.distance_m)} m` : "");
  const list = (title, items, fmt) => (items && items.length
    ? GT.el("div", {}, GT.el("strong", {}, title), GT.el("ul", {}, items.slice(0, 4).map((h) => GT.el("li", {}, fmt(h))))) : null);
  return GT.el("div", {},
    GT.el("p", { class: "muted" }, [sc.gu, sc.dong, sc.station && (sc.station.centre || sc.station.fire_station)].filter(Boolean).join(" · ")),
    list("⚠ 위험 Hazards", sc.hazards, (h) => `${h.name || h.kind || h.type || "hazard"} ${where(h)}`)
      || GT.el("p", { class: "muted" }, "위험 정보 없음 · No hazards on record"),
    list("소화전 Hydrants", sc.hydrants, (h) => `${h.id || ""} ${where(h)} ${h.state || ""}`),
    list("진입 제한 Access", sc.restrictions, (r) => r.message || r.reason || r.vehicle || JSON.stringify(r)));
}

async function loadScene(id) {
  if (state.sceneFor === id) return;
  state.sceneFor = id; state.scene = null;
  try { state.scene = await GT.get(`/api/incidents/${encodeURIComponent(id)}/scene`); }
  catch (e) { state.scene = { error: String(e) }; }
  const box = document.getElementById("scenebox");
  if (box && state.selected === id) GT.fill(box, state.scene.error ? GT.el("p", { class: "muted" }, state.scene.error) : sceneSummary(state.scene));
}

async function loadDetail() {
  const id = state.selected;
  if (!id) return;
  try {
    const detail = await GT.get(`/api/incidents/${encodeURIComponent(id)}`);
    if (state.selected !== id) return;
    state.detail = detail;
    renderPanel(detail);
    renderRoutes(detail);
    loadScene(id);
  } catch (e) { GT.fill(document.getElementById("panel"), GT.el("p", { class: "error" }, String(e))); }
}

let detailTimer = null;
function detailChanged() { clearTimeout(detailTimer); detailTimer = setTimeout(loadDetail, 150); }

function renderRoutes(detail) {
  routeLayer.clearLayers();
  const rec = detail.recommendation;
  if (!rec) return;
  for (const u of rec.units || []) {
    if (!u.route) continue;
    L.geoJSON(u.route, { style: { color: u.within_golden_time ? "#4aa3ff" : "#ff5a4f", weight: 4, opacity: 0.85 } })
      .bindTooltip(`${u.name}: ${GT.mmss(u.eta_s)}`).addTo(routeLayer);
  }
}

// The panel is re-rendered whenever its incident changes: its status line lives in the state.
function setPanelStatus(text) {
  state.panelStatus = text;
  const out = document.getElementById("panelstatus");
  if (out) out.textContent = text;
}

async function command(path, body, label) {
  setPanelStatus(`${label}…`);
  const res = await GT.post(path, body);
  if (res.status === 202) setPanelStatus(`${label}: 접수됨 accepted (${res.data.command_id})`);
  else setPanelStatus(`${label}: 오류 error ${res.status} ${typeof res.data.detail === "string" ? res.data.detail : JSON.stringify(res.data.detail)}`);
  return res;
}

function dispatchRecommended() {
  if (!state.detail) return;
  command(`/api/incidents/${encodeURIComponent(state.detail.id)}/dispatch`, {}, "추천 출동 Dispatch recommended");
}

// What a camera saw (snapshot, live view) or what a sensor measured, for one attached event.
function eventDetail(e) {
  const d = e.detail || {};
  if (e.kind === "video") {
    const pct = d.confidence != null ? `${Math.round(d.confidence * 100)}%` : "";
    return GT.el("div", { class: "event-detail" },
      GT.el("div", {}, `📷 ${d.camera_name || d.camera_id || ""} · ${d.event_type || ""} ${pct}`,
        d.advisory ? GT.el("span", { class: "gt-warn" }, " · 확인 필요 advisory: confirm on video") : null),
      d.snapshot_url ? GT.el("img", { src: d.snapshot_url, alt: `snapshot ${d.camera_id || ""}`, class: "snapshot", loading: "lazy" }) : null,
      d.live_url ? GT.el("a", { href: d.live_url, target: "_blank", rel: "noopener" }, "실시간 영상 Live view") : null);
  }
  if (e.kind === "sensor") {
    const value = d.value != null ? `${d.value} ${d.unit || ""}` : "";
    const limit = d.threshold != null ? ` (기준 threshold ${d.threshold} ${d.unit || ""})` : "";
    return GT.el("div", { class: "event-detail" },
      `📈 ${d.structure_name || d.structure_id || ""} · ${d.sensor_id || ""} · ${d.level || ""} · ${value}${limit}`,
      d.reason ? GT.el("div", { class: "muted small" }, d.reason) : null);
  }
  return null;
}

function renderPanel(d) {
  const rec = d.recommendation;
  const section = (title, ...body) => GT.el("div", { class: "block" }, GT.el("h3", {}, title), ...body);
  const recRows = (rec?.units || []).map((u) => GT.el("tr", {},
    GT.el("td", {}, GT.el("input", { type: "checkbox", class: "pick", value: u.unit_id, "aria-label": `${u.name} 선택 select` })),
    GT.el("td", {}, u.name, GT.el("div", { class: "muted small" }, `${u.kind} · ${u.station_name}`)),
    GT.el("td", {}, GT.mmss(u.eta_s)),
    GT.el("td", {}, `${(u.distance_m / 1000).toFixed(1)} km`),
    GT.el("td", { class: u.within_golden_time ? "gt-ok" : "gt-breach" }, u.within_golden_time ? "✓ 7분 내 within" : "✗ 초과 beyond")));
  const assigned = (d.units || []).map((u) => GT.el("li", {},
    GT.el("span", { class: "dot", style: `background:${UNIT_COLOURS[u.status]}` }), " ", `${u.name} — ${GT.statusLabel(u.status)}`));
  const panel = document.getElementById("panel");
  GT.fill(panel,
    GT.el("h2", {}, `${GT.typeLabel(d.type)} `, GT.el("span", { class: "muted small" }, d.id)),
    GT.el("p", {}, `${GT.statusLabel(d.status)} · P${d.priority} · ${d.gu || ""} · ${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`),
    d.description ? GT.el("p", { class: "desc" }, d.description) : null,
    GT.el("div", { class: "actions" },
      GT.el("button", { type: "button", id: "dispatch-recommended", onclick: dispatchRecommended, disabled: !rec || !(rec.units || []).length || !ACTIVE.has(d.status) }, "추천 출동 Dispatch recommended (D)"),
      GT.el("button", { type: "button", class: "secondary", id: "dispatch-selected", onclick: () => {
        const ids = [...document.querySelectorAll("#panel input.pick:checked")].map((c) => c.value);
        if (ids.length) command(`/api/incidents/${encodeURIComponent(d.id)}/dispatch`, { unit_ids: ids }, "선택 출동 Dispatch selected");
      } }, "선택 출동 Dispatch selected"),
      GT.el("button", { type: "button", class: "secondary", id: "close-incident", disabled: !ACTIVE.has(d.status), onclick: () => {
        const note = prompt("종결 메모 Closing note", "") ?? null;
        if (note !== null) command(`/api/incidents/${encodeURIComponent(d.id)}/close`, { note }, "종결 Close");
      } }, "종결 Close")),
    GT.el("output", { id: "panelstatus", role: "status" }, state.panelStatus || ""),
    GTMedia.section(),
    section("추천 Recommendation",
      rec ? GT.el("p", { class: rec.golden_time_breach ? "gt-breach" : "gt-ok" },
        rec.first_eta_s != null ? `첫 도착 First ETA ${GT.mmss(rec.first_eta_s)}` : "ETA —",
        rec.golden_time_breach ? " · 골든타임 초과 예상 golden time breach" : " · 골든타임 내 within golden time",
        rec.mutual_aid?.length ? ` · 응원 요청 mutual aid ${rec.mutual_aid.length}` : "") : GT.el("p", { class: "muted" }, "계산 중 · computing"),
      rec && Object.keys(rec.unfilled || {}).length ? GT.el("p", { class: "gt-warn" }, `부족 Unfilled: ${Object.entries(rec.unfilled).map(([k, n]) => `${k}×${n}`).join(", ")}`) : null,
      rec?.hospital ? GT.el("p", {}, `병원 Hospital: ${rec.hospital.name || JSON.stringify(rec.hospital)}`) : null,
      rec?.note ? GT.el("p", { class: "muted" }, rec.note) : null,
      recRows.length ? GT.el("table", { class: "rec" }, GT.el("thead", {}, GT.el("tr", {}, GT.el("th", {}, ""), GT.el("th", {}, "차량 Unit"), GT.el("th", {}, "ETA"), GT.el("th", {}, "거리 Dist"), GT.el("th", {}, "골든타임 Golden"))), GT.el("tbody", {}, recRows)) : null),
    section("출동 차량 Assigned units", assigned.length ? GT.el("ul", {}, assigned) : GT.el("p", { class: "muted" }, "없음 none")),
    section(`신고 Calls (${d.calls.length})`, GT.el("ul", { class: "calls" }, d.calls.map((c) => GT.el("li", {},
      GT.el("b", {}, new Date(c.received_at).toLocaleTimeString("ko-KR")), ` ${GT.typeLabel(c.type)} ${c.caller ? "· " + c.caller : ""}`,
      c.description ? GT.el("div", {}, c.description) : null,
      GT.el("div", { class: "muted small" }, `연결 사유 Link: ${c.link_reason}`),
      GTMedia.linkButton(c),
      d.calls.length > 1 ? GT.el("button", { type: "button", class: "small secondary", onclick: () => command(`/api/calls/${encodeURIComponent(c.id)}/unlink`, { note: "dispatcher" }, "분리 Unlink") }, "분리 Unlink") : null)))),
    d.events.length ? section(`영상·센서 Events (${d.events.length})`, GT.el("ul", {}, d.events.map((e) => GT.el("li", {},
      `${e.kind} ${GT.typeLabel(e.type)} ${new Date(e.at).toLocaleTimeString("ko-KR")}`, GT.el("div", { class: "muted small" }, e.link_reason),
      eventDetail(e),
      GT.el("button", { type: "button", class: "small secondary", onclick: () => command(`/api/calls/${encodeURIComponent(e.id)}/unlink`, { note: "dispatcher" }, "분리 Unlink") }, "분리 Unlink"))))) : null,
    section("현장 At the scene (200 m)", GT.el("div", { id: "scenebox" },
      state.sceneFor === d.id && state.scene && !state.scene.error ? sceneSummary(state.scene) : GT.el("p", { class: "muted" }, "불러오는 중 · loading…"))),
    section("경과 Timeline", GT.el("ol", { class: "timeline" }, d.timeline.map((t) => GT.el("li", {},
      GT.el("b", {}, new Date(t.at).toLocaleTimeString("ko-KR")), ` ${t.kind} — ${t.detail} `, GT.el("span", { class: "muted small" }, `(${t.actor})`))))),
  );
}

async function reloadAll() {
  const [incidents, units] = await Promise.all([GT.get("/api/incidents?limit=500"), GT.get("/api/units")]);
  state.incidents = new Map(incidents.map((i) => [i.id, i]));
  state.units = new Map(units.map((u) => [u.id, u]));
  scheduleRender();
  if (state.selected) detailChanged();
}

map.on("click", (e) => {
  const f = document.getElementById("callform");
  f.lat.value = e.latlng.lat.toFixed(6); f.lon.value = e.latlng.lng.toFixed(6);
  if (pickMarker) pickMarker.setLatLng(e.latlng); else pickMarker = L.marker(e.latlng, { title: "신고 위치 Call location" }).addTo(map);
});

document.getElementById("callform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target, out = document.getElementById("formstatus");
  const body = { type: f.type.value, lat: Number(f.lat.value), lon: Number(f.lon.value), description: f.description.value, source: "console" };
  if (f.caller.value) body.caller = f.caller.value;
  const res = await GT.post("/api/calls", body);
  if (res.status === 202) { out.textContent = `접수됨 Accepted: ${res.data.call_id}`; f.description.value = ""; }
  else if (res.status === 422) { out.textContent = "입력 오류 Invalid: " + res.data.detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; "); }
  else { out.textContent = `오류 Error ${res.status}: ${res.data.detail}`; }
});

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "d" || e.key === "D") { dispatchRecommended(); e.preventDefault(); }
  else if (e.key === "n" || e.key === "N") { document.querySelector("#callform select").focus(); e.preventDefault(); }
  else if (e.key === "ArrowDown" && !e.target.closest("#incidents")) { document.querySelector("#incidents tr")?.focus(); e.preventDefault(); }
});

GT.init().then(() => {
  GT.stream({
    incident: (inc) => {
      state.incidents.set(inc.id, inc); scheduleRender({ units: false });
      if (inc.id === state.selected) detailChanged();
    },
    unit: (u) => {
      const known = state.units.has(u.id);
      state.units.set(u.id, u);
      scheduleRender({ queue: false, unitId: known ? u.id : null });
      if (state.selected && u.incident_id === state.selected) detailChanged();
    },
  }, reloadAll);
  setInterval(tickClocks, 1000);
});
