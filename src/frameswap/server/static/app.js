// frameswap page: plain JavaScript over the public API (GET /v1/info, POST /v1/faces, the /v2 jobs).
// No framework and no build step (see frameswap/server/web.py for why). The API key, when the
// server has keys, lives in sessionStorage (this tab only) and travels in the x-api-key header.
"use strict";

const KEY_STORE = "frameswap-api-key";
const POLL_MS = 400;
const RESTORER_LABELS = {
  none: "none",
  codeformer: "CodeFormer (codeformer-v0.1.0.pth)",
  "gfpgan-1.4": "GFPGAN 1.4 (GFPGANv1.4.pth)",
  "gfpgan-1.3": "GFPGAN 1.3 (GFPGANv1.3.pth)",
};
// the hosted API's restorer names, as /v1/info's default_face_restore may spell them
const RESTORER_SHORT = {
  "codeformer-v0.1.0.pth": "codeformer",
  "gfpganv1.4.pth": "gfpgan-1.4",
  "gfpganv1.3.pth": "gfpgan-1.3",
};

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem(KEY_STORE) || "",
  info: null,
  // {value, name, type, objectUrl, listing, photos}: photos > 1 when value is a list of photos
  media: { source: null, target: null },
  order: { source: [], target: [] },
  listSeq: { source: 0, target: 0 },
  job: null,
  pollTimer: null,
  resultUrl: null,
};

class ApiError extends Error {
  constructor(status, body) {
    super(body.error || `HTTP ${status}`);
    this.status = status;
    this.error = body.error || `HTTP ${status}`;
    this.hint = body.hint || "";
    this.code = body.code || "";
  }
}

// ---- talking to the API ------------------------------------------------------------------------

async function api(path, { method = "GET", body } = {}) {
  const headers = {};
  if (state.key) headers["x-api-key"] = state.key;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (exc) {
    throw new ApiError(0, { error: "the server cannot be reached", hint: "Is frameswap serve still running?" });
  }
  if (response.ok) {
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response.blob();
  }
  const payload = await response.json().catch(() => ({}));
  const error = new ApiError(response.status, payload);
  if (response.status === 401) askForKey();
  throw error;
}

// ---- errors and the key ------------------------------------------------------------------------

function showError(err) {
  const box = $("error");
  box.replaceChildren();
  const what = document.createElement("strong");
  what.textContent = err.error || err.message || String(err);
  box.append(what);
  if (err.hint) box.append(document.createTextNode(err.hint));
  box.hidden = false;
}

function clearError() {
  $("error").hidden = true;
  $("error").replaceChildren();
}

function askForKey() {
  $("key-section").hidden = false;
}

async function loadInfo() {
  try {
    state.info = await api("/v1/info");
  } catch (err) {
    if (err.status === 401 && state.key) {
      // a wrong key: say so with the server's message, and forget it
      sessionStorage.removeItem(KEY_STORE);
      state.key = "";
      showError(err);
      $("api-key").focus();
    } else if (err.status !== 401) {
      showError(err);
    }
    return false;
  }
  $("key-section").hidden = true;
  fillChoosers(state.info);
  return true;
}

function fillChoosers(info) {
  const swapper = info.swapper || {};
  const engines = swapper.installed_engines || [swapper.engine || "auto"];
  const engine = $("engine");
  engine.replaceChildren(
    ...engines.map((name) => new Option(name, name, false, name === swapper.engine))
  );
  const restorers = ["none", ...(swapper.installed_restorers || [])];
  const wanted = String(info.default_face_restore || "none");
  const preselect = RESTORER_SHORT[wanted.toLowerCase()] || wanted.toLowerCase();
  const chosen = restorers.includes(preselect) ? preselect : "none";
  $("face-restore").replaceChildren(
    ...restorers.map((name) => new Option(RESTORER_LABELS[name] || name, name, false, name === chosen))
  );
}

// ---- picking the media -------------------------------------------------------------------------

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(new ApiError(0, { error: `cannot read ${file.name}` }));
    reader.readAsDataURL(file);
  });
}

async function useFiles(role, files) {
  const picked = Array.from(files || []);
  if (!picked.length) return;
  clearError();
  $(`${role}-url`).value = "";
  if (role === "source" && picked.length > 1) {
    // several photos of one person: the server makes one identity of them (source_img as a list)
    const values = await Promise.all(picked.map(readAsDataUrl));
    await setMedia(role, {
      value: values, name: `${picked.length} photos`, type: picked[0].type,
      objectUrl: null, photos: picked.length,
    });
    return;
  }
  const file = picked[0];
  const value = await readAsDataUrl(file);
  await setMedia(role, { value, name: file.name, type: file.type, objectUrl: URL.createObjectURL(file), photos: 1 });
}

async function useUrl(role) {
  const url = $(`${role}-url`).value.trim();
  if (!url) return;
  clearError();
  const name = decodeURIComponent(url.split("?")[0].split("/").pop() || role);
  await setMedia(role, { value: url, name, type: "", objectUrl: null, photos: 1 });
}

async function setMedia(role, media) {
  const old = state.media[role];
  if (old && old.objectUrl) URL.revokeObjectURL(old.objectUrl);
  state.media[role] = media;
  state.order[role] = [];
  syncFields();
  await listFaces(role);
}

async function listFaces(role) {
  const media = state.media[role];
  if (!media) return;
  const seq = ++state.listSeq[role];
  const holder = $(`${role}-faces`);
  holder.replaceChildren();
  setStatus(role, "Finding faces…");
  try {
    const several = media.photos > 1;
    const listing = await api("/v1/faces", {
      method: "POST",
      body: { image: several ? media.value[0] : media.value, role, engine: $("engine").value || undefined, images: true },
    });
    if (seq !== state.listSeq[role]) return; // a newer file was chosen meanwhile
    media.listing = listing;
    renderFaces(role, listing, several);
    setStatus(role, several
      ? `${media.photos} photos of one person, made into one identity by the server (it refuses a photo of someone else); the first: ${describeListing(listing)}`
      : describeListing(listing));
  } catch (err) {
    if (seq !== state.listSeq[role]) return;
    setStatus(role, "");
    showError(err);
  }
}

function setStatus(role, text) {
  $(`${role}-status`).textContent = text;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function describeListing(listing) {
  let text = `${plural(listing.faces.length, "face")} · ${listing.kind} ${listing.width}×${listing.height}`;
  if (listing.frame_count > 1) {
    text += ` · ${listing.frame_count} frames, indexes from frame ${listing.reference_frame}`;
  }
  return `${text} · ${listing.analyzer} analyzer`;
}

// ---- the face buttons --------------------------------------------------------------------------

function pct(value, whole) {
  return `${Math.min(100, Math.max(0, (100 * value) / whole)).toFixed(3)}%`;
}

function faceButton(role, face) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "face";
  button.dataset.faceIndex = String(face.index);
  button.setAttribute("aria-pressed", "false");
  button.setAttribute("aria-label", `${role === "target" ? "Target" : "Source"} face ${face.index}`);
  const num = document.createElement("span");
  num.className = "num";
  num.textContent = String(face.index);
  button.append(num);
  button.addEventListener("click", () => toggleFace(role, face.index));
  return button;
}

function renderFaces(role, listing, identity = false) {
  const holder = $(`${role}-faces`);
  holder.replaceChildren();
  const images = listing.images || { reference: "", crops: {} };
  const frame = document.createElement("div");
  frame.className = "frame";
  const img = document.createElement("img");
  img.src = images.reference;
  img.alt = `${role === "target" ? "Target" : "Source"}, frame ${listing.reference_frame}, with ${plural(
    listing.faces.length, "face")} numbered`;
  frame.append(img);
  const later = document.createElement("div");
  later.className = "later";
  for (const face of listing.faces) {
    const button = faceButton(role, face);
    if (identity) button.disabled = true; // an identity is one person: source face 0
    const crop = images.crops[String(face.index)];
    if (crop) {
      const thumb = document.createElement("img");
      thumb.src = crop;
      thumb.alt = "";
      button.append(thumb);
      button.setAttribute("aria-label", `${button.getAttribute("aria-label")}, first seen in frame ${face.first_frame}`);
      later.append(button);
    } else {
      const [x1, y1, x2, y2] = face.box;
      button.style.left = pct(x1, listing.width);
      button.style.top = pct(y1, listing.height);
      button.style.width = pct(x2 - x1, listing.width);
      button.style.height = pct(y2 - y1, listing.height);
      frame.append(button);
    }
  }
  holder.append(frame);
  if (later.childElementCount) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = "People who appear after this frame:";
    holder.append(note, later);
  }
  if (!listing.faces.length) {
    const none = document.createElement("p");
    none.className = "note";
    none.textContent = "No face found here.";
    holder.append(none);
  }
  renderPressed();
}

function toggleFace(role, index) {
  const order = state.order[role];
  const at = order.indexOf(index);
  if (at >= 0) order.splice(at, 1);
  else order.push(index);
  syncFields();
}

function renderPressed() {
  for (const role of ["source", "target"]) {
    const order = state.order[role];
    for (const button of $(`${role}-faces`).querySelectorAll("button[data-face-index]")) {
      const index = Number(button.dataset.faceIndex);
      const at = order.indexOf(index);
      button.setAttribute("aria-pressed", String(at >= 0));
      button.querySelector(".num").textContent = at >= 0 && order.length > 1 ? `${index} (#${at + 1})` : String(index);
    }
  }
  const targets = state.order.target;
  const sources = state.order.source;
  let text = targets.length
    ? `Replacing target ${targets.length === 1 ? "face" : "faces"} ${targets.join(", ")}, in this order`
    : "Click the faces to replace, in order. None chosen: face 0";
  text += sources.length ? `, with source ${sources.length === 1 ? "face" : "faces"} ${sources.join(", ")}.` : ".";
  $("order").textContent = text;
}

function syncFields() {
  $("input-faces-index").value = state.order.target.length ? state.order.target.join(",") : "0";
  $("source-faces-index").value = state.order.source.length ? state.order.source.join(",") : "0";
  renderPressed();
}

function parseIndexes(text) {
  const items = text.split(",").map((s) => s.trim());
  return items.every((s) => /^[0-9]+$/.test(s)) ? items.map(Number) : null;
}

function fieldEdited(role, field) {
  // typing in the request field selects the matching buttons (the field keeps what was typed)
  const parsed = parseIndexes(field.value);
  if (parsed) {
    state.order[role] = parsed;
    renderPressed();
  }
}

// ---- swapping ----------------------------------------------------------------------------------

async function submitSwap(event) {
  event.preventDefault();
  clearError();
  const { source, target } = state.media;
  if (!source || !target) {
    showError({ error: "Choose a source photo and a target first.", hint: "Use the file pickers or drop files on them." });
    return;
  }
  const body = {
    source_img: source.value,
    target_img: target.value,
    input_faces_index: $("input-faces-index").value.trim() || "0",
    source_faces_index: $("source-faces-index").value.trim() || "0",
    face_restore: $("face-restore").value || "none",
  };
  if ($("engine").value) body.engine = $("engine").value;
  $("swap").disabled = true;
  try {
    const accepted = await api("/v2/models/faceswap-v2", { method: "POST", body });
    state.job = accepted.request_id;
    $("job").hidden = false;
    $("cancel").disabled = false;
    $("job-progress").removeAttribute("value"); // indeterminate until the first count
    $("job-status").textContent = "Queued";
    poll(accepted.request_id);
  } catch (err) {
    $("swap").disabled = false;
    showError(err);
  }
}

async function poll(id) {
  if (state.job !== id) return;
  let job;
  try {
    job = await api(`/v2/jobs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (state.job === id) {
      endJob();
      showError(err);
    }
    return;
  }
  if (state.job !== id) return; // cancelled meanwhile
  const { done, total } = job.progress;
  const bar = $("job-progress");
  if (total) {
    bar.max = total;
    bar.value = done;
  }
  $("job-status").textContent = total ? `${done} / ${total} frames` : job.status.toLowerCase();
  if (job.status === "COMPLETED") {
    try {
      await showResult(job);
    } catch (err) {
      showError(err);
    }
    endJob();
  } else if (job.status === "FAILED") {
    endJob();
    showError(job.error || { error: "the swap failed" });
  } else {
    state.pollTimer = setTimeout(() => poll(id), POLL_MS);
  }
}

function endJob() {
  state.job = null;
  clearTimeout(state.pollTimer);
  $("swap").disabled = false;
  $("cancel").disabled = true;
}

async function cancelJob() {
  const id = state.job;
  if (!id) return;
  try {
    await api(`/v2/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
  } catch (err) {
    showError(err);
    return;
  }
  endJob();
  $("job-status").textContent = "Cancelled";
}

// ---- the result --------------------------------------------------------------------------------

function mediaElement(url, type, id) {
  const isVideo = type.startsWith("video/");
  const el = document.createElement(isVideo ? "video" : "img");
  if (id) el.id = id;
  el.src = url;
  if (isVideo) {
    el.controls = true;
    el.playsInline = true;
    el.preload = "metadata";
  }
  return el;
}

async function measureAnimation(blob) {
  // frames and total duration read back from the result by the browser's own decoder (WebCodecs)
  if (typeof ImageDecoder === "undefined") return null;
  try {
    if (!(await ImageDecoder.isTypeSupported(blob.type))) return null;
    const decoder = new ImageDecoder({ data: await blob.arrayBuffer(), type: blob.type });
    await decoder.tracks.ready;
    await decoder.completed;
    const track = decoder.tracks.selectedTrack;
    let micros = 0;
    for (let i = 0; i < track.frameCount; i += 1) {
      const { image } = await decoder.decode({ frameIndex: i });
      micros += image.duration || 0;
      image.close();
    }
    decoder.close();
    return { frames: track.frameCount, seconds: micros / 1e6 };
  } catch (err) {
    return null;
  }
}

function videoSeconds(video) {
  return new Promise((resolve) => {
    if (video.readyState >= 1) resolve(video.duration);
    video.addEventListener("loadedmetadata", () => resolve(video.duration), { once: true });
    video.addEventListener("error", () => resolve(NaN), { once: true });
  });
}

function imageSize(img) {
  return img.decode().then(() => [img.naturalWidth, img.naturalHeight]).catch(() => [0, 0]);
}

function humanBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

function downloadName(targetName, format) {
  const stem = (targetName || "result").replace(/\.[^.]*$/, "").replace(/[^\w.-]+/g, "_") || "result";
  const ext = format === "jpeg" ? "jpg" : format;
  return `${stem}-swapped.${ext}`;
}

async function showResult(job) {
  const blob = await api(job.result_url);
  if (state.resultUrl) URL.revokeObjectURL(state.resultUrl);
  state.resultUrl = URL.createObjectURL(blob);
  const type = blob.type || job.output.content_type;
  const target = state.media.target;

  const original = target.objectUrl
    ? mediaElement(target.objectUrl, target.type || "image/", "original")
    : mediaElement(target.listing.images.reference, "image/jpeg", "original");
  original.alt = "Original";
  $("original-holder").replaceChildren(original);

  const result = mediaElement(state.resultUrl, type, "result");
  result.alt = "Result";
  $("result-holder").replaceChildren(result);
  $("results").hidden = false;

  const link = $("download");
  link.href = state.resultUrl;
  link.download = downloadName(target.name, job.output.format);
  link.textContent = `Download ${link.download}`;

  const facts = [plural(job.output.frame_count, "frame")];
  if (type.startsWith("video/")) {
    const seconds = await videoSeconds(result);
    if (Number.isFinite(seconds)) facts.push(`${seconds.toFixed(2)} s`);
    facts.push(`${result.videoWidth}×${result.videoHeight}`);
  } else {
    const [w, h] = await imageSize(result);
    const measured = job.output.frame_count > 1 ? await measureAnimation(blob) : null;
    if (measured) facts.push(`${measured.seconds.toFixed(2)} s`);
    facts.push(`${w}×${h}`);
  }
  facts.push(humanBytes(blob.size));
  $("result-meta").textContent = `Result · ${facts.join(" · ")}`;
  result.scrollIntoView({ block: "nearest" });
}

// ---- wiring ------------------------------------------------------------------------------------

function wireDrop(zone) {
  const role = zone.dataset.role;
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = event.dataTransfer.files;
    if (!files.length) return;
    $(`${role}-file`).files = files; // the picker names the dropped files too
    useFiles(role, role === "source" ? files : [files[0]]).catch(showError);
  });
}

function init() {
  for (const role of ["source", "target"]) {
    $(`${role}-file`).addEventListener("change", (event) => useFiles(role, event.target.files).catch(showError));
    $(`${role}-url-load`).addEventListener("click", () => useUrl(role));
    $(`${role}-url`).addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        useUrl(role);
      }
    });
  }
  for (const zone of document.querySelectorAll(".drop")) wireDrop(zone);
  $("input-faces-index").addEventListener("input", (e) => fieldEdited("target", e.target));
  $("source-faces-index").addEventListener("input", (e) => fieldEdited("source", e.target));
  $("engine").addEventListener("change", () => {
    // the engine decides the analyzer, so the indexes: list the faces again
    listFaces("source");
    listFaces("target");
  });
  $("swap-form").addEventListener("submit", submitSwap);
  $("cancel").addEventListener("click", cancelJob);
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    state.key = $("api-key").value.trim();
    sessionStorage.setItem(KEY_STORE, state.key);
    if (await loadInfo()) {
      $("api-key").value = "";
      listFaces("source");
      listFaces("target");
    }
  });
  loadInfo();
}

init();
