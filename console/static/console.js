// Golden Time dispatcher board: live queue, incident panel, map, unit board, call intake.
"use strict";
const state = { incidents: new Map(), units: new Map(), selected: null, detail: null, panelStatus: "" };
const map = GT.baseMap("map", { networkInfo: true });
// Hundreds of incident and unit markers across the city: drawn on one canvas, not as SVG nodes.
const markerRenderer = L.canvas({ padding: 0.3 });
const incidentLayer = L.layerGroup().addTo(map);
const unitLayer = L.layerGroup().addTo(map);
const routeLayer = L.layerGroup().addTo(map);
const callerLayer = L.layerGroup().addTo(map);
const coverageLayer = L.layerGroup();
L.control.layers(null, { "커버리지 공백 Coverage holes (engine, 5 min)": coverageLayer }, { collapsed: false }).addTo(map);
let coverageTimer = null;
// The holes of the coverage model, and the gu it cannot judge (not in the road network).
async function refreshCoverage() {
  try {
    const [c, network] = await Promise.all([GT.get("/api/coverage?minutes=5&vehicle=engine"), map.gt.network]);
    const missing = c.gu_missing?.length ? ` · ${c.gu_missing.join(", ")} 제외 excluded (${c.note})` : "";
    coverageLayer.clearLayers();
    L.geoJSON(c.holes, { style: { color: "#ff5a4f", weight: 1, fillOpacity: 0.25 } })
      .bindTooltip(GT.tip(`공백 hole · ${Math.round(c.covered_share * 1000) / 10}% covered by ${c.units} engines${missing}`))
      .addTo(coverageLayer);
    if (c.gu_missing?.length) GT.gapsLayer(network, { colour: "#ff8c1a", prefix: "커버리지 미산정 Not assessed: " }).addTo(coverageLayer);
  } catch (e) { console.warn("coverage", e); }
}
map.on("overlayadd", (e) => { if (e.layer === coverageLayer) { refreshCoverage(); coverageTimer = setInterval(refreshCoverage, 30000); } });
map.on("overlayremove", (e) => { if (e.layer === coverageLayer) { clearInterval(coverageTimer); coverageTimer = null; } });
const ACTIVE = new Set(["open", "dispatched", "on_scene"]);

function ageSeconds(inc) { return (Date.now() - Date.parse(inc.created_at)) / 1000; }

// A sender's clock skew (claimed minus received) as "+9:00:00" / "-4:59:30".
function skewText(seconds) {
  const s = Math.round(Math.abs(seconds));
  const hms = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return `${seconds < 0 ? "-" : "+"}${hms}`;
}
const SKEW_HELP = "발신 시계 오차: 접수 시각으로 정렬 · Sender clock wrong: placed by the time the console received it";
function skewBadge(seconds) {
  return GT.el("span", { class: "skew", title: `${SKEW_HELP} (${skewText(seconds)})` }, `⏱ 시계 오차 clock ${skewText(seconds)}`);
}

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

function activeIncidents() { return [...state.incidents.values()].filter((i) => ACTIVE.has(i.status)); }

function queue() {
  return activeIncidents().filter((i) => QueueFilter.matches(i))
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

// An incident taken in from another centre's EIDO: its first call says so ("[EIDO 경기] ...").
function partnerOf(inc) {
  const m = /^\[EIDO ([^\]]+)\]/.exec(inc.description || "");
  return m ? m[1] : null;
}

function partnerBadge(inc) {
  const name = partnerOf(inc);
  return name ? GT.el("span", { class: "badge partner", title: `EIDO from ${name}` }, ` ⇄ ${name}`) : null;
}

// Queue rows are kept per incident and rebuilt only when what they show changes: hundreds of
// open incidents across the city re-sort several times a second without rebuilding the table.
const queueRows = new Map(); // incident id -> { sig, tr }
// The age and golden-time clocks tick every second on the rows in view only (hundreds of
// open incidents would otherwise re-lay out the whole table each second); a row that scrolls
// into view is brought up to date at once.
const visibleRows = new Set();
const rowObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (e.isIntersecting) { visibleRows.add(e.target); tickRow(e.target); } else visibleRows.delete(e.target);
  }
}, { root: document.getElementById("queue") });
function dropRow(tr) { rowObserver.unobserve(tr); visibleRows.delete(tr); }
function rowSignature(inc) {
  return [inc.revision, inc.status, inc.priority, inc.id === state.selected, inc.call_ids.length,
    (inc.event_ids || []).length, inc.gu, inc.place?.dong, inc.lat, inc.lon, inc.clock_skew_s, QueueFilter.centres.length,
    GTMci.badgeKey(inc)].join("|");
}

function queueRow(inc) {
  const sig = rowSignature(inc);
  const cached = queueRows.get(inc.id);
  if (cached && cached.sig === sig) return cached.tr;
  if (cached) dropRow(cached.tr);
  const gt = goldenTime(inc);
  const tr = GT.el("tr", {
    class: `incident status-${inc.status}` + (inc.id === state.selected ? " selected" : ""),
    tabindex: "0", "data-id": inc.id, "aria-selected": String(inc.id === state.selected),
    onclick: () => select(inc.id), onkeydown: queueKeys,
  },
    GT.el("td", { class: `prio p${inc.priority}` }, String(inc.priority)),
    GT.el("td", { title: inc.id }, GT.typeLabel(inc.type), partnerBadge(inc),
      GTMci.badge(inc),
      GT.el("div", { class: "muted small where" }, whereLine(inc)),
      inc.clock_skew_s != null ? skewBadge(inc.clock_skew_s) : null),
    GT.el("td", {}, GT.statusLabel(inc.status)),
    GT.el("td", { class: "age" }, GT.mmss(ageSeconds(inc))),
    GT.el("td", { class: `gt ${gt.cls}` }, gt.text),
    GT.el("td", {}, String(inc.call_ids.length + (inc.event_ids || []).length)));
  queueRows.set(inc.id, { sig, tr });
  rowObserver.observe(tr);
  return tr;
}

function renderQueue() {
  const rows = queue();
  const tbody = document.getElementById("incidents");
  const focusedId = document.activeElement?.dataset?.id;
  const shown = new Set(rows.map((inc) => inc.id));
  for (const [id, { tr }] of queueRows) if (!shown.has(id)) { dropRow(tr); queueRows.delete(id); }
  const trs = rows.map(queueRow);
  const current = tbody.children;
  if (current.length !== trs.length || trs.some((tr, i) => current[i] !== tr)) tbody.replaceChildren(...trs);
  document.getElementById("count").textContent = QueueFilter.active() ? `(${rows.length}/${activeIncidents().length})` : `(${rows.length})`;
  if (focusedId) tbody.querySelector(`tr[data-id="${CSS.escape(focusedId)}"]`)?.focus();
}

// gu · dong · station area, under the incident type in the queue.
function whereLine(inc) {
  const area = QueueFilter.areaOf(inc.lat, inc.lon);
  const gu = [QueueFilter.guOf(inc), inc.place?.dong].filter(Boolean).join(" ");
  return [gu, area && area.name.replace("119안전센터", "센터")].filter(Boolean).join(" · ");
}

function tickRow(tr) {
  const inc = state.incidents.get(tr.dataset.id);
  if (!inc) return;
  const gt = goldenTime(inc);
  tr.querySelector(".age").textContent = GT.mmss(ageSeconds(inc));
  const cell = tr.querySelector(".gt");
  if (cell.textContent !== gt.text) cell.textContent = gt.text;
  if (cell.className !== `gt ${gt.cls}`) cell.className = `gt ${gt.cls}`;
}

function tickClocks() {
  document.getElementById("clock").textContent = new Date().toLocaleTimeString("ko-KR");
  for (const tr of visibleRows) tickRow(tr);
}

function unitRow(u) {
  return GT.el("tr", { "data-unit": u.id },
    GT.el("td", {}, u.name),
    GT.el("td", { class: "muted" }, u.station_name),
    GT.el("td", {}, GT.el("span", { class: "dot", style: { background: UNIT_COLOURS[u.status] || "#888" } }), " ", GT.statusLabel(u.status)),
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
// Markers of the queue's incidents (the filter applies to the map too); restyled only when
// their status or selection changed.
function renderIncidentMarkers() {
  const shown = new Map(queue().map((inc) => [inc.id, inc]));
  for (const [id, m] of incidentMarkers) {
    if (!shown.has(id)) { incidentLayer.removeLayer(m); incidentMarkers.delete(id); }
  }
  for (const inc of shown.values()) {
    let m = incidentMarkers.get(inc.id);
    const sig = `${inc.status}|${inc.id === state.selected}|${inc.type}|${inc.lat},${inc.lon}|${inc.clock_skew_s}`;
    if (m && m.gtSig === sig) continue;
    const style = { radius: inc.id === state.selected ? 11 : 8, color: "#fff", weight: 2, fillColor: INCIDENT_COLOURS[inc.status], fillOpacity: 0.9 };
    if (!m) {
      m = L.circleMarker([inc.lat, inc.lon], { ...style, renderer: markerRenderer }).addTo(incidentLayer);
      m.on("click", () => select(inc.id));
      m.bindTooltip("");
      incidentMarkers.set(inc.id, m);
    }
    m.setLatLng([inc.lat, inc.lon]);
    m.setStyle(style);
    m.setTooltipContent(GT.tip(`${GT.typeLabel(inc.type)} · ${GT.statusLabel(inc.status)}${inc.place?.label ? " · " + inc.place.label : ""}${inc.clock_skew_s != null ? " · ⏱ " + skewText(inc.clock_skew_s) : ""}`));
    m.gtSig = sig;
  }
}

function renderUnitMarker(u) {
  if (!u) return;
  let m = unitMarkers.get(u.id);
  const style = { radius: 5, color: "#0b0f14", weight: 1, fillColor: UNIT_COLOURS[u.status] || "#888", fillOpacity: 1 };
  if (!m) { m = L.circleMarker([u.lat, u.lon], { ...style, renderer: markerRenderer }).bindTooltip("").addTo(unitLayer); unitMarkers.set(u.id, m); }
  m.setLatLng([u.lat, u.lon]); m.setStyle(style);
  m.setTooltipContent(GT.tip(`${u.name} (${u.station_name}) · ${GT.statusLabel(u.status)}`));
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
    renderCallerFixes(detail);
    loadScene(id);
    loadExchange(detail);
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
      .bindTooltip(GT.tip(`${u.name}: ${GT.mmss(u.eta_s)}`)).addTo(routeLayer);
  }
}

// Where the phone network put each caller: a circle of its uncertainty radius.
function renderCallerFixes(detail) {
  callerLayer.clearLayers();
  for (const c of detail.calls || []) {
    if (c.location_uncertainty_m > 0) GT.fixCircle(c.lat, c.lon, c.location_uncertainty_m, c.location_source).addTo(callerLayer);
  }
}

// Centre-to-centre exchange (NENA EIDO): requests about this incident, and asking a partner
// centre for units (mutual aid) when ours fall short.
async function loadExchange(d) {
  try {
    const [partners, requests] = await Promise.all([
      state.partners ? Promise.resolve(state.partners) : GT.get("/api/exchange/partners"),
      GT.get(`/api/exchange/requests?incident_id=${encodeURIComponent(d.id)}`)]);
    state.partners = partners;
    state.exchange = { requests };
  } catch (e) { state.exchange = { error: String(e) }; }
  state.exchangeFor = d.id;
  const box = document.getElementById("exchangebox");
  if (box && state.selected === d.id) GT.fill(box, exchangeSummary(d, state.exchange));
}

function exchangeSummary(d, ex) {
  if (ex.error) return GT.el("p", { class: "muted" }, ex.error);
  const partners = (state.partners || []).filter((p) => p.reachable);
  const rows = ex.requests.map((r) => GT.el("li", {},
    `${r.direction === "sent" ? "→" : "←"} ${r.partner} · ${r.kind === "mutual_aid" ? "응원 mutual aid" : "공동대응 joint response"} · `,
    GT.el("b", { class: r.status === "accepted" ? "gt-ok" : r.status === "declined" ? "gt-breach" : "gt-warn" }, r.status),
    r.response_text ? GT.el("div", { class: "muted small" }, r.response_text) : null,
    r.direction === "received" && r.status === "pending" ? GT.el("button", { type: "button", class: "small secondary", onclick: async () => {
      const reason = prompt("거절 사유 Reason for declining", "가용 차량 없음 no units available");
      if (!reason) return;
      const res = await GT.post("/api/exchange/requests/decline", { request: r.id, reason });
      setPanelStatus(res.status === 200 ? "거절 Declined: 응답 보냄 answer sent" : `거절 Decline: 오류 error ${res.status}`);
      loadExchange(d);
    } }, "거절 Decline") : null));
  const picker = GT.el("select", { id: "aid-partner", "aria-label": "응원 요청 기관 partner centre" },
    partners.map((p) => GT.el("option", { value: p.id }, `${p.name}${p.connected ? "" : " (연결 끊김 offline)"}`)));
  const count = GT.el("input", { id: "aid-units", type: "number", min: "1", max: "20", value: "1", "aria-label": "대수 units", style: { width: "4rem" } });
  return GT.el("div", {},
    rows.length ? GT.el("ul", {}, rows) : GT.el("p", { class: "muted" }, "요청 없음 · no requests"),
    partners.length ? GT.el("div", { class: "actions" }, picker, count,
      GT.el("button", { type: "button", class: "secondary", id: "ask-mutual-aid", disabled: !ACTIVE.has(d.status), onclick: async () => {
        setPanelStatus("응원 요청 Mutual aid…");
        const res = await GT.post(`/api/exchange/incidents/${encodeURIComponent(d.id)}/mutual-aid`,
          { partner_id: picker.value, units: Number(count.value) || 1, note: `${GT.typeLabel(d.type)} 응원 요청` });
        setPanelStatus(res.status === 200 ? `응원 요청 Mutual aid: 보냄 sent (${res.data.request_id})`
          : `응원 요청 Mutual aid: 오류 error ${res.status} ${JSON.stringify(res.data.detail)}`);
        loadExchange(d);
      } }, "응원 요청 Ask partner for units")) : GT.el("p", { class: "muted small" }, "연결된 기관 없음 · no partner centres configured"));
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
    GT.el("span", { class: "dot", style: { background: UNIT_COLOURS[u.status] || "#888" } }), " ", `${u.name} — ${GT.statusLabel(u.status)}`));
  const panel = document.getElementById("panel");
  GT.fill(panel,
    GT.el("h2", {}, `${GT.typeLabel(d.type)} `, GT.el("span", { class: "muted small" }, d.id)),
    GT.el("p", { id: "incident-place", class: "place" }, GT.el("span", { class: "muted" }, "위치 Place "), d.place?.label || [d.gu, `${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`].filter(Boolean).join(" · ")),
    GT.el("p", {}, `${GT.statusLabel(d.status)} · P${d.priority} · ${d.lat.toFixed(5)}, ${d.lon.toFixed(5)}`,
      d.location_uncertainty_m ? ` · ± ${Math.round(d.location_uncertainty_m)} m (${LOCATION_SOURCES[d.location_source] || d.location_source || "?"})` : "",
      (() => { const a = QueueFilter.areaOf(d.lat, d.lon); return a ? ` · 관할 ${a.name}` : ""; })()),
    d.description ? GT.el("p", { class: "desc" }, d.description) : null,
    d.clock_skew_s != null ? GT.el("p", { class: "skew" }, `⏱ ${SKEW_HELP} (${skewText(d.clock_skew_s)})`) : null,
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
    GTMci.section(d),
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
      c.clock_skew_s != null ? GT.el("div", { class: "skew" }, `⏱ 발신 시각 claimed ${new Date(c.claimed_at).toLocaleString("ko-KR")} (${skewText(c.clock_skew_s)})`) : null,
      c.description ? GT.el("div", { class: "call-desc" }, c.description) : null,
      GT.el("div", { class: "muted small" }, `연결 사유 Link: ${c.link_reason}`),
      GTMedia.linkButton(c),
      d.calls.length > 1 ? GT.el("button", { type: "button", class: "small secondary", onclick: () => command(`/api/calls/${encodeURIComponent(c.id)}/unlink`, { note: "dispatcher" }, "분리 Unlink") }, "분리 Unlink") : null)))),
    d.events.length ? section(`영상·센서 Events (${d.events.length})`, GT.el("ul", {}, d.events.map((e) => GT.el("li", {},
      `${e.kind} ${GT.typeLabel(e.type)} ${new Date(e.at).toLocaleTimeString("ko-KR")}`, GT.el("div", { class: "muted small" }, e.link_reason),
      eventDetail(e),
      GT.el("button", { type: "button", class: "small secondary", onclick: () => command(`/api/calls/${encodeURIComponent(e.id)}/unlink`, { note: "dispatcher" }, "분리 Unlink") }, "분리 Unlink"))))) : null,
    section("기관 간 Centre exchange", GT.el("div", { id: "exchangebox" },
      state.exchangeFor === d.id && state.exchange ? exchangeSummary(d, state.exchange) : GT.el("p", { class: "muted" }, "불러오는 중 · loading…"))),
    section("현장 At the scene (200 m)", GT.el("div", { id: "scenebox" },
      state.sceneFor === d.id && state.scene && !state.scene.error ? sceneSummary(state.scene) : GT.el("p", { class: "muted" }, "불러오는 중 · loading…"))),
    section("경과 Timeline", GT.el("ol", { class: "timeline" }, d.timeline.map((t) => GT.el("li", {},
      GT.el("b", {}, new Date(t.at).toLocaleTimeString("ko-KR")), ` ${t.kind} — ${t.detail} `, GT.el("span", { class: "muted small" }, `(${t.actor})`))))),
  );
  GTMci.restoreFocus();
}

async function reloadAll() {
  const [incidents, units] = await Promise.all([GT.get("/api/incidents?limit=500"), GT.get("/api/units")]);
  state.incidents = new Map(incidents.map((i) => [i.id, i]));
  state.units = new Map(units.map((u) => [u.id, u]));
  await GTMci.loadSurges();
  scheduleRender();
  if (state.selected) detailChanged();
}

Intake.init(map);
GTMci.init({ map, open: select, onChange: () => scheduleRender({ units: false }), reload: detailChanged });
Intake.onPlace = (where) => GTMci.hintIntake(where);

document.addEventListener("keydown", (e) => {
  if (e.target.closest("input, textarea, select") || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === "d" || e.key === "D") { dispatchRecommended(); e.preventDefault(); }
  else if (e.key === "n" || e.key === "N") { document.querySelector("#callform select").focus(); e.preventDefault(); }
  else if (e.key === "ArrowDown" && !e.target.closest("#incidents")) { document.querySelector("#incidents tr")?.focus(); e.preventDefault(); }
});

GT.init().then(() => {
  QueueFilter.init({ map, onChange: () => scheduleRender({ units: false }) }).catch((e) => console.warn("queue filter", e));
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
    surges: (data) => GTMci.setSurges(data.surges),
  }, reloadAll);
  setInterval(tickClocks, 1000);
});
