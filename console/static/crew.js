// Crew view (phone): this unit's assignment, route, hazards and hydrants, status buttons.
"use strict";
const crew = { unitId: null, unit: null, incident: null, sceneFor: null };
const map = GT.baseMap("crewmap");
const layer = L.layerGroup().addTo(map);

function sceneList(title, items, fmt) {
  if (!items || !items.length) return null;
  return GT.el("div", { class: "block" }, GT.el("h3", {}, `${title} (${items.length})`), GT.el("ul", {}, items.slice(0, 12).map((x) => GT.el("li", {}, fmt(x)))));
}

async function loadScene(incidentId) {
  if (crew.sceneFor === incidentId) return;
  crew.sceneFor = incidentId;
  const box = document.getElementById("scene");
  GT.fill(box, GT.el("p", { class: "muted" }, "현장 정보 불러오는 중 · Loading scene…"));
  try {
    const s = await GT.get(`/api/incidents/${encodeURIComponent(incidentId)}/scene`);
    const where = (x) => (x.distance_m != null ? `${Math.round(x.distance_m)} m` : "");
    GT.fill(box,
      GT.el("h2", {}, "현장 정보 · At the scene (200 m)"),
      GT.el("p", {}, `${s.gu || ""} ${s.dong || ""}`, s.station ? ` · 관할 ${s.station.centre}` : ""),
      sceneList("⚠ 위험물·위험요소 Hazards", s.hazards, (h) => `${h.name || h.kind || h.type || "hazard"} ${where(h)}`) || GT.el("p", { class: "muted" }, "위험 정보 없음 · No hazards on record"),
      sceneList("소화전 Hydrants", s.hydrants, (h) => `${h.id} ${where(h)}${h.no_engine_access ? " · 진입 불가 no engine access" : ""}`),
      sceneList("소화전 사용불가 Unusable hydrants", s.hydrants_unusable, (h) => `${h.id} ${where(h)}`),
      sceneList("소방용수·설비 Fire devices", s.devices, (h) => `${h.id} ${where(h)}${h.no_engine_access ? " · 진입 불가" : ""}`));
    for (const h of s.hydrants || []) L.circleMarker([h.lat, h.lon], { radius: 6, color: "#fff", weight: 1, fillColor: "#4aa3ff", fillOpacity: 1 }).bindTooltip(GT.tip(`소화전 Hydrant ${h.id}`)).addTo(layer);
    for (const h of s.devices || []) L.circleMarker([h.lat, h.lon], { radius: 5, color: "#fff", weight: 1, fillColor: "#2f7fd6", fillOpacity: 1 }).bindTooltip(GT.tip(`용수 Device ${h.id}`)).addTo(layer);
    for (const h of s.hazards || []) if (h.lat != null) L.circleMarker([h.lat, h.lon], { radius: 7, color: "#000", weight: 1, fillColor: "#ffb020", fillOpacity: 1 }).bindTooltip(GT.tip(`⚠ ${h.name || h.kind || "hazard"}`)).addTo(layer);
  } catch (e) { GT.fill(box, GT.el("p", { class: "error" }, `현장 정보 오류 Scene error: ${e}`)); }
}

// The route this unit drives: the one dispatch planned for it (to the scene, or for an ambulance
// of a mass-casualty incident to its staging point), else the recommendation's for it.
function driving(d) {
  const r = crew.unit.route;
  const mine = (d.recommendation?.units || []).find((u) => u.unit_id === crew.unitId);
  if (r && r.incident_id === d.id) {
    const staging = r.destination?.kind === "staging";
    return { eta_s: r.eta_s, distance_m: r.distance_m, geometry: r.geometry, staging,
      ok: mine ? mine.within_golden_time : true, to: staging ? "집결지 / staging point" : "현장 / incident" };
  }
  if (!mine) return null;
  return { eta_s: mine.eta_s, distance_m: mine.distance_m, geometry: mine.route, staging: false,
    ok: mine.within_golden_time, to: "현장 / incident" };
}

// A mass-casualty incident as the crew needs it: the confirmed level, the staging point and
// where the patients go (per ER; which ambulance carries whom is decided at the staging point).
function mciBlock(m, drive) {
  const level = m.confirmed_level
    ? `대응 ${m.confirmed_level}단계 (확정 confirmed${m.confirmed_by ? ` · ${m.confirmed_by}` : ""})`
    : `대응 ${m.proposed_level}단계 제안 (proposed, not confirmed yet)`;
  const s = m.staging;
  const load = (m.er_load || []).filter((e) => e.patients > 0);
  const table = load.length ? GT.el("table", { id: "crew-er-table", class: "small" },
    GT.el("thead", {}, GT.el("tr", {}, GT.el("th", {}, "병원 ER"), GT.el("th", {}, "환자 Patients"), GT.el("th", {}, "수용 Capacity"))),
    GT.el("tbody", {}, load.map((e) => GT.el("tr", {}, GT.el("td", {}, e.er_name), GT.el("td", {}, String(e.patients)), GT.el("td", {}, String(e.capacity))))))
    : GT.el("p", { class: "muted small" }, "환자 분산 전 · Patients not distributed yet");
  return GT.el("div", { id: "crew-mci", class: "block", style: { borderLeft: "4px solid #1f8a4c", paddingLeft: "0.5em" } },
    GT.el("h3", {}, "다수사상자 MCI"),
    GT.el("p", { id: "crew-mci-level" }, level),
    GT.el("p", { id: "crew-staging" },
      s ? `집결지 / staging point: ${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}` : "집결지 / staging point: 미지정 not set (현장으로 to the incident)",
      drive && s && !drive.staging ? " · 경로는 현장으로 route to the incident" : ""),
    GT.el("h3", {}, "환자 이송 병원 · Patients' ERs"),
    table);
}

async function refresh() {
  const units = await GT.get("/api/units");
  crew.unit = units.find((u) => u.id === crew.unitId) || null;
  const title = document.getElementById("unitname");
  if (!crew.unit) { title.textContent = `차량 없음 · No unit ${crew.unitId || ""}`; return; }
  title.textContent = `${crew.unit.name} · ${crew.unit.station_name}`;
  const st = document.getElementById("unitstatus");
  st.textContent = `상태 Status: ${GT.statusLabel(crew.unit.status)}`;
  st.style.borderColor = UNIT_COLOURS[crew.unit.status] || "#888";
  for (const b of document.querySelectorAll(".statusbuttons button[data-status]")) b.setAttribute("aria-pressed", String(b.dataset.status === crew.unit.status));
  layer.clearLayers();
  L.circleMarker([crew.unit.lat, crew.unit.lon], { radius: 8, color: "#fff", weight: 2, fillColor: UNIT_COLOURS[crew.unit.status], fillOpacity: 1 }).bindTooltip(GT.tip(crew.unit.name)).addTo(layer);
  const box = document.getElementById("assignment");
  if (!crew.unit.incident_id) {
    crew.incident = null; crew.sceneFor = null;
    GT.fill(box, GT.el("p", { class: "muted" }, "지령 없음 · No assignment."));
    GT.fill(document.getElementById("scene"));
    map.setView([crew.unit.lat, crew.unit.lon], 15);
    return;
  }
  const d = await GT.get(`/api/incidents/${encodeURIComponent(crew.unit.incident_id)}`);
  crew.incident = d;
  const drive = driving(d);
  const staging = d.mci?.staging || null;
  GT.fill(box,
    GT.el("h2", { id: "assigned-type" }, GT.typeLabel(d.type)),
    GT.el("p", { id: "assigned-place", class: "place" }, GT.el("span", { class: "muted" }, "위치 "), d.place?.label || d.gu || ""),
    GT.el("p", {}, `${d.lat.toFixed(5)}, ${d.lon.toFixed(5)} · ${GT.statusLabel(d.status)}`,
      d.location_uncertainty_m ? ` · 신고자 위치 ± ${Math.round(d.location_uncertainty_m)} m` : ""),
    d.description ? GT.el("p", { class: "desc" }, d.description) : null,
    drive ? GT.el("p", { id: "route-eta", class: drive.ok ? "gt-ok" : "gt-breach" },
      `${drive.to} · 예상 도착 ETA ${GT.mmss(drive.eta_s)} · ${(drive.distance_m / 1000).toFixed(1)} km`) : GT.el("p", { class: "muted" }, "경로 없음 · No computed route"),
    d.mci ? mciBlock(d.mci, drive) : null,
    GT.el("p", { class: "muted small" }, `사건 Incident ${d.id} · 신고 ${d.calls.length}건 calls`));
  L.circleMarker([d.lat, d.lon], { radius: 11, color: "#fff", weight: 2, fillColor: "#ff3b30", fillOpacity: 1 }).bindTooltip(GT.tip("현장 Scene")).addTo(layer);
  if (d.location_uncertainty_m > 0) GT.fixCircle(d.lat, d.lon, d.location_uncertainty_m, d.location_source).addTo(layer);
  if (staging) {
    L.circleMarker([staging.lat, staging.lon], { radius: 11, color: "#fff", weight: 3, fillColor: "#1f8a4c", fillOpacity: 1, className: "crew-staging" })
      .bindTooltip(GT.tip("집결지 / staging point"), { permanent: true, direction: "top" }).addTo(layer);
  }
  if (drive && drive.geometry) {
    const route = L.geoJSON(drive.geometry, { style: { color: "#4aa3ff", weight: 6, opacity: 0.9 }, className: "crew-route" }).addTo(layer);
    // the scene in view too when the route ends at the staging point
    map.fitBounds(route.getBounds().extend([d.lat, d.lon]).pad(0.2));
  } else {
    const corners = [[d.lat, d.lon], [crew.unit.lat, crew.unit.lon]];
    if (staging) corners.push([staging.lat, staging.lon]);
    map.fitBounds(L.latLngBounds(corners).pad(0.3));
  }
  crew.sceneFor = null;
  loadScene(d.id);
}

let timer = null;
function soon() { clearTimeout(timer); timer = setTimeout(() => refresh().catch((e) => console.warn(e)), 100); }

async function report(button) {
  if (!crew.unitId) return;
  const out = document.getElementById("crewout");
  const id = encodeURIComponent(crew.unitId);
  const label = button.innerText.replace(/\s+/g, " ");
  const res = button.dataset.action === "acknowledge"
    ? await GT.post(`/api/units/${id}/acknowledge`, {})
    : await GT.post(`/api/units/${id}/status`, { status: button.dataset.status });
  out.textContent = res.status === 202 ? `보냄 Sent: ${label}` : `오류 Error ${res.status}: ${res.data.detail}`;
}

for (const b of document.querySelectorAll(".statusbuttons button")) b.addEventListener("click", () => report(b));

GT.init().then((me) => {
  crew.unitId = new URLSearchParams(location.search).get("unit") || me.unit_id;
  if (!crew.unitId) { document.getElementById("unitname").textContent = "차량 미지정 · No unit: add ?unit=ID"; return; }
  GT.stream({
    unit: (u) => { if (u.id === crew.unitId) soon(); },
    incident: (inc) => { if (crew.unit && inc.id === crew.unit.incident_id) soon(); },
  }, soon);
});
