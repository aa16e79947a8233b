// narrator studio: the page. Plain JavaScript, no framework, no build step, nothing fetched
// from anywhere but the studio. The token came in the address; the server answered with a
// cookie, so the address loses it at once (it must not end up in history or bookmarks).
"use strict";

if (location.search.includes("token=")) history.replaceState(null, "", "/");

const state = {
  view: "script",
  script: null, // GET /api/script
  cast: null, // GET /api/cast
  versions: { cast: null, lines: null }, // of the files as the page last read them
  selected: null, // the selected line's id
  order: [], // the characters in number-key order
  rendering: false,
  consequences: new Set(), // ids whose speaker changed because of the last correction
  cues: [],
  chapter: null,
};

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
};

function say(text, isError = false) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "";
  box.hidden = !text;
}

async function api(method, url, body) {
  const options = { method, headers: {}, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.error || `${response.status} ${response.statusText}`);
    error.stale = Boolean(data.stale);
    throw error;
  }
  return data;
}

// ---------------------------------------------------------------- colours per speaker

// Well-separated hues handed out in the cast's order, so that the main characters never
// share a colour; the narrator is grey.
const HUES = [210, 20, 130, 280, 45, 330, 175, 0, 95, 250, 60, 300];
const hues = new Map();

function paint(node, speaker) {
  const name = speaker || "?";
  if (name === "Narrator") {
    node.style.setProperty("--bg", "hsl(0 0% 95%)");
    node.style.setProperty("--edge", "hsl(0 0% 45%)");
    return;
  }
  if (!hues.has(name)) hues.set(name, HUES[hues.size % HUES.length] + 7 * Math.floor(hues.size / HUES.length));
  const h = hues.get(name);
  node.style.setProperty("--bg", `hsl(${h} 70% 93%)`);
  node.style.setProperty("--edge", `hsl(${h} 65% 33%)`);
}

// ---------------------------------------------------------------- views

function show(view) {
  state.view = view;
  for (const tab of document.querySelectorAll("nav button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === view));
  }
  for (const name of ["script", "cast", "listen"]) $(`view-${name}`).hidden = name !== view;
  if (view === "script") loadScript();
  if (view === "cast") loadCast();
  if (view === "listen") loadListen();
}

// ---------------------------------------------------------------- script

function speakers() {
  // The order of the number keys: most lines first as the page first read them, then
  // newcomers at the end. Kept while the page is open, so that a key keeps its character
  // even when assignments change who has most lines.
  const now = (state.script ? state.script.characters : []).map((row) => row.name);
  state.order = state.order.filter((name) => now.includes(name));
  for (const name of now) if (!state.order.includes(name)) state.order.push(name);
  return state.order;
}

async function loadScript() {
  try {
    state.script = await api("GET", "/api/script");
  } catch (error) {
    say(error.message, true);
    return;
  }
  state.versions.lines = state.script.versions.lines;
  state.versions.cast = state.script.versions.cast;
  $("book-title").textContent = `narrator studio: ${state.script.title}`;
  for (const name of speakers()) paint(document.createElement("span"), name);
  const root = $("script");
  root.replaceChildren();
  for (const chapter of state.script.chapters) {
    if (state.script.chapters.length > 1) root.append(el("h2", {}, chapter.title));
    for (const seg of chapter.segments) root.append(lineNode(seg));
  }
  const names = $("speaker-names");
  names.replaceChildren(...speakers().map((name) => el("option", { value: name })));
  const keep = state.selected && document.querySelector(`.seg[data-id="${state.selected}"]`);
  select(keep ? state.selected : null, false);
}

function evidenceText(seg) {
  const parts = [];
  if (seg.confidence != null) parts.push(`confidence ${seg.confidence.toFixed(2)}`);
  if (seg.evidence.length) parts.push(`why: ${seg.evidence.join("; ")}`);
  if (seg.candidates.length) {
    parts.push("or: " + seg.candidates.map((c) => `${c.speaker} ${c.probability.toFixed(2)}`).join(", "));
  }
  return parts.join("\n");
}

function lineNode(seg) {
  const speech = seg.kind === "dialogue" || seg.kind === "thought";
  const classes = ["seg", seg.kind, speech ? "speech" : ""];
  if (seg.doubtful) classes.push("doubtful");
  if (seg.corrected) classes.push("corrected");
  if (seg.changed || state.consequences.has(seg.id)) classes.push("consequence");
  const node = el("p", { class: classes.join(" "), tabindex: "0", dataset: { id: seg.id } });
  if (speech) {
    paint(node, seg.speaker);
    node.append(el("span", { class: "who" }, seg.speaker || "?"));
    node.title = evidenceText(seg);
  }
  node.append(seg.text.trim());
  node.addEventListener("click", () => select(seg.id));
  node.addEventListener("focus", () => select(seg.id, false));
  return node;
}

function findSeg(id) {
  for (const chapter of state.script.chapters) {
    for (const seg of chapter.segments) if (seg.id === id) return seg;
  }
  return null;
}

function select(id, focus = true) {
  state.selected = id;
  const seg = id ? findSeg(id) : null;
  $("inspector").hidden = !seg;
  if (!seg) return;
  const node = document.querySelector(`.seg[data-id="${id}"]`);
  if (focus && node && document.activeElement !== node) node.focus();
  $("line-id").textContent = id;
  const speech = seg.kind === "dialogue" || seg.kind === "thought";
  $("line-who").textContent = speech
    ? `${seg.speaker || "?"} (${seg.kind})${seg.corrected ? ", corrected by you" : ""}`
    : seg.kind;
  $("line-evidence").textContent = speech ? evidenceText(seg) : "";
  const buttons = $("speaker-buttons");
  buttons.replaceChildren();
  speakers().forEach((name, index) => {
    const button = el(
      "button",
      { type: "button", dataset: { name }, onclick: () => assign({ speaker: name }) },
      el("span", { class: "n" }, index < 9 ? String(index + 1) : ""),
      el("span", { class: "swatch" }),
      name,
    );
    paint(button, name);
    buttons.append(button);
  });
}

async function assign(change) {
  const id = state.selected;
  if (!id) return;
  try {
    const result = await api("PUT", `/api/lines/${encodeURIComponent(id)}`, {
      ...change,
      version: state.versions.lines,
    });
    state.versions = result.versions;
    state.consequences = new Set(result.also_changed.map((c) => c.id));
    const list = $("consequences");
    list.replaceChildren();
    if (result.also_changed.length) list.append(el("h3", {}, "Also changed"));
    for (const c of result.also_changed) {
      const item = el("p", { class: "consequence-item", dataset: { id: c.id } },
        `${c.id}: ${c.before || "?"} → ${c.after || "?"}: ${c.text.trim().slice(0, 60)}`);
      item.addEventListener("click", () => select(c.id));
      list.append(item);
    }
    await loadScript();
    select(id);
    const after = result.after ? result.after.speaker || "?" : "narration";
    say(`Saved ${id}: ${after}. ${result.also_changed.length} other lines changed as a consequence.`);
    for (const message of result.stale) say(message, true);
  } catch (error) {
    say(error.message, true);
  }
}

// ---------------------------------------------------------------- cast

async function loadCast() {
  try {
    state.cast = await api("GET", "/api/cast");
  } catch (error) {
    say(error.message, true);
    return;
  }
  state.versions.cast = state.cast.versions.cast;
  $("cast-file").textContent = `Cast file: ${state.cast.cast_file}; narrator's voice: ${state.cast.narrator}`;
  const body = $("cast-table").tBodies[0];
  body.replaceChildren(...state.cast.characters.map(castRow));
}

const number = (input) => (input.value === "" ? null : Number(input.value));

function castRow(row) {
  const tr = el("tr", { dataset: { name: row.name } });
  const gender = el("select", { class: "gender", "aria-label": `${row.name}: gender` },
    el("option", { value: "" }, "-"),
    ...state.cast.genders.map((g) => el("option", { value: g }, g)));
  gender.value = row.gender || "";
  const voice = el("select", { class: "voice", "aria-label": `${row.name}: voice` },
    ...state.cast.profiles.map((p) => el("option", { value: p.id, title: p.description },
      `${p.id} (${p.gender || "-"}, ${p.age})`)));
  voice.value = row.voice;
  const [rmin, rmax] = state.cast.rate_wpm_range;
  const [pmin, pmax] = state.cast.pitch_range;
  const rate = el("input", { class: "rate", type: "number", min: rmin, max: rmax, step: 5,
    placeholder: "voice's", "aria-label": `${row.name}: rate` });
  rate.value = row.rate_wpm ?? "";
  const pitch = el("input", { class: "pitch", type: "number", min: pmin, max: pmax,
    placeholder: "voice's", "aria-label": `${row.name}: pitch` });
  pitch.value = row.pitch ?? "";
  const aliases = el("input", { class: "aliases", "aria-label": `${row.name}: aliases` });
  aliases.value = row.aliases.filter((a) => a !== row.name).join(", ");
  const save = el("button", { type: "button", class: "save" }, "Save");
  const sample = el("button", { type: "button", class: "sample" }, "▶ Sample");
  save.addEventListener("click", async () => {
    const change = {
      gender: gender.value || null,
      voice: voice.value,
      rate_wpm: number(rate),
      pitch: number(pitch),
      aliases: aliases.value.split(",").map((a) => a.trim()).filter(Boolean),
      version: state.versions.cast,
    };
    try {
      const saved = await api("PUT", `/api/cast/characters/${encodeURIComponent(row.name)}`, change);
      state.versions = saved.versions;
      await loadCast();
      say(`Saved ${saved.name}: voice ${saved.voice}.`);
    } catch (error) {
      say(error.message, true);
    }
  });
  sample.addEventListener("click", async () => {
    sample.disabled = true;
    try {
      // What the row says now, saved or not: hear it before saving it.
      const result = await api("POST", `/api/cast/characters/${encodeURIComponent(row.name)}/sample`,
        { voice: voice.value, rate_wpm: number(rate), pitch: number(pitch) });
      const audio = $("sample-audio");
      audio.src = result.url;
      await audio.play().catch(() => {}); // a headless browser may refuse to play aloud
    } catch (error) {
      say(error.message, true);
    } finally {
      sample.disabled = false;
    }
  });
  const swatch = el("span", { class: "swatch" });
  paint(swatch, row.name);
  tr.append(
    el("td", {}, swatch, row.name),
    el("td", {}, String(row.lines)),
    el("td", {}, gender),
    el("td", {}, voice),
    el("td", {}, rate),
    el("td", {}, pitch),
    el("td", {}, aliases),
    el("td", {}, save, " ", sample),
  );
  return tr;
}

// ---------------------------------------------------------------- listen

async function loadListen() {
  try {
    const data = await api("GET", "/api/listen");
    showChapters(data.chapters);
    showRender(data.render);
  } catch (error) {
    say(error.message, true);
  }
}

function showChapters(chapters) {
  const list = $("chapters");
  list.replaceChildren();
  for (const chapter of chapters) {
    const label = `${chapter.number}. ${chapter.title}${chapter.audio ? "" : " (not rendered)"}` +
      (chapter.audio && !chapter.current ? " (changed since: render again)" : "");
    const button = el("button", { type: "button", class: "chapter", dataset: { number: chapter.number } }, label);
    button.disabled = !chapter.audio;
    button.addEventListener("click", () => openChapter(chapter.number));
    const again = el("button", { type: "button", class: "render-chapter", dataset: { number: chapter.number } },
      chapter.audio ? "Render again" : "Render");
    again.disabled = chapter.current || state.rendering;
    again.addEventListener("click", () => render(chapter.number));
    list.append(el("li", {}, button, " ", again));
  }
}

function showRender(job) {
  const bar = $("render-progress");
  bar.max = Math.max(job.clips_total, 1);
  bar.value = job.state === "done" ? bar.max : job.clips_done;
  const text = job.state === "running" ? `${job.stage}: ${job.clips_done} of ${job.clips_total} clips`
    : job.message;
  $("render-state").textContent = text;
  state.rendering = job.state === "running";
  $("render").disabled = state.rendering;
  for (const b of document.querySelectorAll("#chapters .render-chapter")) {
    if (state.rendering) b.disabled = true;
  }
}

async function render(chapter) {
  // A chapter number: that chapter alone; none: every chapter that changed.
  try {
    showRender(await api("POST", "/api/render", typeof chapter === "number" ? { chapter } : {}));
  } catch (error) {
    say(error.message, true);
    return;
  }
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const job = await api("GET", "/api/render");
    showRender(job);
    if (job.state !== "running") {
      if (job.state === "failed") say(job.message, true);
      await loadListen();
      return;
    }
  }
}

async function openChapter(number) {
  let data;
  try {
    data = await api("GET", `/api/chapters/${number}/cues`);
  } catch (error) {
    say(error.message, true);
    return;
  }
  state.chapter = number;
  state.cues = data.cues;
  for (const b of document.querySelectorAll("#chapters button")) {
    b.classList.toggle("current", Number(b.dataset.number) === number);
  }
  const player = $("player");
  player.src = `/media/chapters/${number}.mp3`;
  const list = $("transcript");
  list.replaceChildren(...state.cues.map((cue, index) => {
    const item = el("li", { tabindex: "0", dataset: { index } },
      el("span", { class: "who" }, cue.speaker), cue.text);
    paint(item, cue.speaker);
    item.addEventListener("click", () => seek(index));
    return item;
  }));
}

function seek(index) {
  const player = $("player");
  player.currentTime = state.cues[index].start_ms / 1000 + 0.001;
  highlight();
  player.play().catch(() => {});
}

function highlight() {
  const ms = $("player").currentTime * 1000;
  // The line being spoken, or in the pause after it, the line just spoken.
  let index = -1;
  state.cues.forEach((cue, i) => {
    if (cue.start_ms <= ms) index = i;
  });
  if (index >= 0 && ms >= state.cues[index].end_ms + 2000) index = -1;
  for (const item of $("transcript").children) {
    const on = Number(item.dataset.index) === index;
    if (on && !item.classList.contains("active")) item.scrollIntoView({ block: "nearest" });
    item.classList.toggle("active", on);
  }
}

// ---------------------------------------------------------------- keyboard

function moveLine(step) {
  const lines = [...document.querySelectorAll("#script .seg")];
  if (!lines.length) return;
  const at = lines.findIndex((node) => node.dataset.id === state.selected);
  const next = lines[Math.min(Math.max(at + step, 0), lines.length - 1)];
  select(next.dataset.id);
}

function togglePlay() {
  const player = $("player");
  if (!player.src) return;
  if (player.paused) player.play().catch(() => {});
  else player.pause();
}

document.addEventListener("keydown", (event) => {
  const typing = event.target.closest("input, select, textarea");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === " ") {
    event.preventDefault();
    togglePlay();
    return;
  }
  if (state.view !== "script") return;
  if (event.key === "ArrowDown" || event.key === "j") moveLine(1);
  else if (event.key === "ArrowUp" || event.key === "k") moveLine(-1);
  else if (/^[1-9]$/.test(event.key)) {
    const name = speakers()[Number(event.key) - 1];
    if (name) assign({ speaker: name });
  } else if (event.key === "0") assign({ kind: "narration" });
  else if (event.key === "a") assign({ auto: true });
  else return;
  event.preventDefault();
});

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll("nav button")) {
    tab.addEventListener("click", () => show(tab.dataset.view));
  }
  $("new-speaker").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("new-speaker-name").value.trim();
    if (name) assign({ speaker: name });
  });
  $("mark-narration").addEventListener("click", () => assign({ kind: "narration" }));
  $("mark-auto").addEventListener("click", () => assign({ auto: true }));
  $("render").addEventListener("click", () => render());
  $("player").addEventListener("timeupdate", highlight);
  show("script");
});
