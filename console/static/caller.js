// The caller's page: claim the link, stream the camera to the console (WebRTC, one peer
// connection per watching console page, signalling over /m/api/*), send GPS fixes and photos.
"use strict";
const caller = { lang: "ko", stream: null, ice: [], peers: new Map(), ended: false, lastFix: 0, pending: null };
const $ = (id) => document.getElementById(id);
const POLL_MS = 250;
const FIX_EVERY_MS = 3000;

function say(ko, en) {
  const s = $("status");
  s.dataset.ko = ko; s.dataset.en = en;
  s.textContent = caller.lang === "ko" ? ko : en;
}

function applyLanguage() {
  document.documentElement.lang = caller.lang;
  for (const node of document.querySelectorAll("[data-ko]")) {
    node.textContent = caller.lang === "ko" ? node.dataset.ko : node.dataset.en;
  }
  $("lang").textContent = caller.lang === "ko" ? "English" : "한국어";
}

async function api(path, body, type) {
  const res = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "content-type": type || "application/json" },
    body: type ? body : JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await res.json(); } catch (e) { data = {}; }
  return { ok: res.ok, status: res.status, data };
}

function iceDone(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 3000); // send what was gathered (host candidates first)
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

async function offerTo(viewerId) {
  const pc = new RTCPeerConnection({ iceServers: caller.ice });
  caller.peers.set(viewerId, pc);
  for (const track of caller.stream.getTracks()) pc.addTrack(track, caller.stream);
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "failed" || pc.connectionState === "closed") caller.peers.delete(viewerId);
    if (pc.connectionState === "connected") say("상황실에 영상이 전송되고 있습니다.", "Your video is reaching the control centre.");
  });
  await pc.setLocalDescription(await pc.createOffer());
  await iceDone(pc);
  await api("/m/api/offer", { viewer_id: viewerId, sdp: pc.localDescription.sdp });
}

async function poll() {
  if (caller.ended) return;
  try {
    const res = await api("/m/api/poll", { camera: Boolean(caller.stream) });
    if (res.status === 401) { stop("영상 신고가 종료되었습니다.", "The video report has ended."); return; }
    if (res.ok && caller.stream) syncRecording(Boolean(res.data.recording));
    if (res.ok && caller.stream) {
      for (const v of res.data.viewers || []) if (!caller.peers.has(v.viewer_id)) offerTo(v.viewer_id).catch(console.warn);
      for (const a of res.data.answers || []) {
        const pc = caller.peers.get(a.viewer_id);
        if (pc) pc.setRemoteDescription({ type: "answer", sdp: a.sdp }).catch(console.warn);
      }
    }
  } catch (e) { console.warn("poll", e); }
  setTimeout(poll, POLL_MS);
}

// Recording only when a supervisor allowed it: WebM pieces of 4 s uploaded as they come.
function syncRecording(on) {
  if (on && !caller.recorder && typeof MediaRecorder !== "undefined") {
    const type = MediaRecorder.isTypeSupported("video/webm;codecs=vp8") ? "video/webm;codecs=vp8" : "video/webm";
    caller.recorder = new MediaRecorder(caller.stream, { mimeType: type });
    caller.recorder.addEventListener("dataavailable", (e) => {
      if (e.data && e.data.size) api("/m/api/recording", e.data, "video/webm").catch(console.warn);
    });
    caller.recorder.start(4000);
    $("note").textContent = caller.lang === "ko" ? "상황실이 영상을 녹화하고 있습니다." : "The control centre is recording the video.";
  } else if (!on && caller.recorder) {
    caller.recorder.stop();
    caller.recorder = null;
    applyLanguage();
  }
}

function sendFix(pos) {
  const now = Date.now();
  const c = pos.coords;
  $("where").textContent = `📍 ${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)} (±${Math.round(c.accuracy)} m)`;
  if (now - caller.lastFix < FIX_EVERY_MS) { caller.pending = pos; return; }
  caller.lastFix = now; caller.pending = null;
  api("/m/api/location", { lat: c.latitude, lon: c.longitude, accuracy_m: Math.max(c.accuracy, 0.1) }).catch(console.warn);
}

function startLocation() {
  if (!navigator.geolocation) return;
  caller.watch = navigator.geolocation.watchPosition(sendFix, (err) => {
    $("where").textContent = caller.lang === "ko" ? "위치를 알 수 없습니다 (권한을 확인하세요)." : "Location unavailable (check the permission).";
    console.warn("geolocation", err);
  }, { enableHighAccuracy: true, maximumAge: 2000, timeout: 20000 });
  // watchPosition fires only on change: a standing caller is asked for a fresh fix every few
  // seconds too (a fix held back by the throttle is sent then).
  caller.fixTimer = setInterval(() => {
    if (caller.pending) sendFix(caller.pending);
    navigator.geolocation.getCurrentPosition(sendFix, () => {}, { enableHighAccuracy: true, maximumAge: 1000, timeout: 10000 });
  }, FIX_EVERY_MS);
}

async function startCamera() {
  $("start").hidden = true;
  try {
    caller.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
  } catch (e) {
    say("카메라를 켤 수 없습니다. 권한을 허용한 뒤 다시 누르세요.", "The camera is blocked. Allow it, then tap again.");
    $("start").hidden = false;
    return;
  }
  $("preview").srcObject = caller.stream;
  $("photo").disabled = false;
  say("상황실 연결을 기다리는 중…", "Waiting for the control centre…");
}

async function sendPhoto(blob) {
  if (!blob) return;
  const res = await api("/m/api/photo", blob, blob.type === "image/png" ? "image/png" : "image/jpeg");
  say(res.ok ? "사진을 보냈습니다." : "사진을 보내지 못했습니다.", res.ok ? "Photo sent." : "The photo was not sent.");
}

function photoFromCamera() {
  const video = $("preview");
  if (!video.videoWidth) return;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob(sendPhoto, "image/jpeg", 0.85);
}

function stop(ko, en) {
  caller.ended = true;
  if (caller.recorder) { caller.recorder.stop(); caller.recorder = null; }
  for (const pc of caller.peers.values()) pc.close();
  caller.peers.clear();
  if (caller.stream) for (const t of caller.stream.getTracks()) t.stop();
  if (caller.watch != null) navigator.geolocation.clearWatch(caller.watch);
  clearInterval(caller.fixTimer);
  $("photo").disabled = true; $("end").disabled = true;
  say(ko, en);
}

async function main() {
  $("lang").addEventListener("click", () => { caller.lang = caller.lang === "ko" ? "en" : "ko"; applyLanguage(); });
  $("start").addEventListener("click", startCamera);
  $("photo").addEventListener("click", photoFromCamera);
  $("file").addEventListener("change", (e) => sendPhoto(e.target.files[0]));
  $("end").addEventListener("click", async () => {
    await api("/m/api/end", {});
    stop("영상 신고를 끝냈습니다. 고맙습니다.", "Video report ended. Thank you.");
  });
  const token = location.pathname.split("/").pop();
  const claim = await api("/m/api/claim", { token });
  if (!claim.ok) {
    caller.ended = true;
    document.body.dataset.refused = claim.data.refused || "error";
    $("start").hidden = true; $("photo").disabled = true; $("end").disabled = true;
    say(claim.data.ko || "링크를 열 수 없습니다.", claim.data.en || "This link cannot be opened.");
    return;
  }
  caller.ice = claim.data.ice_servers || [];
  document.body.dataset.claimed = "true";
  startLocation();
  poll();
  await startCamera();
}

main();
