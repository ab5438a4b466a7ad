// Golden Time dispatcher board: incident queue, map, call intake. No external requests.
"use strict";
const GOLDEN_TIME_S = 7 * 60;
const TYPE_LABELS = {
  fire: "화재 Fire", building_fire: "건물화재 Building fire", vehicle_fire: "차량화재 Vehicle fire",
  cardiac_arrest: "심정지 Cardiac arrest", ems: "구급 EMS", traffic_collision: "교통사고 Collision",
  rescue: "구조 Rescue", hazmat: "위험물 Hazmat", flood: "침수 Flood",
  structure_alarm: "시설물 경보 Structure alarm", other: "기타 Other",
};
const map = L.map("map", { zoomControl: true, attributionControl: true }).setView([37.5665, 126.978], 14);
map.attributionControl.addAttribution("Boundaries: southkorea-maps (Apache-2.0) · Roads © OpenStreetMap contributors (ODbL)");
const incidentLayer = L.layerGroup().addTo(map);
const markers = new Map();

async function loadBasemap() {
  try {
    const gu = await (await fetch("/api/basemap/gu")).json();
    L.geoJSON(gu, { style: { color: "#4b6078", weight: 1.5, fillOpacity: 0.04 },
      onEachFeature: (f, layer) => layer.bindTooltip(f.properties.name || "", { sticky: true }) }).addTo(map);
  } catch (e) { console.warn("basemap", e); }
}

function fmtAge(seconds) {
  const m = Math.floor(seconds / 60), s = Math.floor(seconds % 60);
  return `${m}:${String(s).padStart(2, "0")}`;
}

function goldenCell(inc, now) {
  const age = (now - Date.parse(inc.created_at)) / 1000;
  if (inc.status !== "open") return { text: inc.status === "closed" ? "—" : "출동 dispatched", cls: "gt-ok" };
  const left = GOLDEN_TIME_S - age;
  if (left <= 0) return { text: `초과 +${fmtAge(-left)}`, cls: "gt-breach" };
  return { text: fmtAge(left), cls: left < 120 ? "gt-warn" : "gt-ok" };
}

function render(incidents) {
  const now = Date.now();
  const tbody = document.getElementById("incidents");
  tbody.replaceChildren();
  document.getElementById("count").textContent = `(${incidents.length})`;
  for (const inc of incidents) {
    const tr = document.createElement("tr");
    tr.className = "incident"; tr.tabIndex = 0; tr.dataset.id = inc.id;
    const gt = goldenCell(inc, now);
    const cells = [inc.id, TYPE_LABELS[inc.type] || inc.type, inc.status,
      fmtAge((now - Date.parse(inc.created_at)) / 1000), gt.text, String(inc.call_ids.length)];
    cells.forEach((text, i) => { const td = document.createElement("td"); td.textContent = text; if (i === 4) td.className = gt.cls; tr.appendChild(td); });
    const focus = () => { map.setView([inc.lat, inc.lon], 16); markers.get(inc.id)?.openPopup(); };
    tr.addEventListener("click", focus);
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") focus(); });
    tbody.appendChild(tr);
    if (!markers.has(inc.id)) {
      const m = L.circleMarker([inc.lat, inc.lon], { radius: 8, color: "#ff5a4f", fillOpacity: 0.8 })
        .bindPopup(`<b>${inc.id}</b><br>${TYPE_LABELS[inc.type] || inc.type}<br>${inc.description || ""}`.replace(/<(?!\/?b>|br>)/g, "&lt;"));
      m.addTo(incidentLayer); markers.set(inc.id, m);
    }
  }
}

async function refresh() {
  const conn = document.getElementById("conn");
  try {
    const res = await fetch("/api/incidents?limit=500");
    if (!res.ok) throw new Error(res.status);
    render(await res.json());
    conn.classList.remove("down"); conn.title = "connected";
  } catch (e) { conn.classList.add("down"); conn.title = "disconnected"; }
}

map.on("click", (e) => {
  const f = document.getElementById("callform");
  f.lat.value = e.latlng.lat.toFixed(6); f.lon.value = e.latlng.lng.toFixed(6);
});

document.getElementById("callform").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = e.target, out = document.getElementById("formstatus");
  const body = { type: f.type.value, lat: Number(f.lat.value), lon: Number(f.lon.value),
    description: f.description.value, source: "console" };
  if (f.caller.value) body.caller = f.caller.value;
  const res = await fetch("/api/calls", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json();
  if (res.status === 202) { out.textContent = `접수됨 Accepted: ${data.call_id}`; f.description.value = ""; refresh(); }
  else if (res.status === 422) { out.textContent = "입력 오류 Invalid: " + data.detail.map(d => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; "); }
  else { out.textContent = `오류 Error ${res.status}: ${data.detail}`; }
});

setInterval(() => { document.getElementById("clock").textContent = new Date().toLocaleTimeString("ko-KR"); }, 1000);
loadBasemap();
refresh();
setInterval(refresh, 2000);
