// HealthChat web app: upload, live status, results and questions over the HTTP API (DESIGN.md section 4).
// Plain JavaScript with no build step and no third-party code, so it is served as-is by `healthchat serve`
// and deployable as static files. Every piece of document text goes into the page through textContent or
// text nodes (never innerHTML), so nothing in a document can run as code.
//
// Sign-in (deployed app): when config.json names a Cognito domain, app client and redirect URI, the app
// signs in through the Cognito Hosted UI with the OAuth 2.0 authorization code flow and PKCE (RFC 7636),
// the flow for public clients that hold no secret; the Web Crypto API makes the S256 challenge, so no
// OAuth library is needed. Tokens stay in sessionStorage (gone when the tab closes, never in a cookie or
// localStorage) and no refresh token is kept: when the access token expires the person signs in again
// (the Hosted UI's own session usually makes that one click). Without that config (`healthchat serve`)
// there is no sign-in, as before.
"use strict";

(function () {
  const TYPES = {
    pdf: "application/pdf",
    png: "image/png",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    tif: "image/tiff",
    tiff: "image/tiff",
    txt: "text/plain",
  };
  const FLAG_WORDS = { high: "high", low: "low", normal: "normal", abnormal: "abnormal", unknown: "no flag" };
  const POLL_MS = 1000;

  const AUTH_KEY = "healthchat.auth"; // {accessToken, idToken, expiresAt} after sign-in
  const PKCE_KEY = "healthchat.pkce"; // {verifier, state} between the redirect out and the way back
  const EXPIRY_SKEW_MS = 30 * 1000;
  const OAUTH_SCOPES = "openid email";

  const state = { selectedId: null, pollTimer: null, result: null, tipSeq: 0 };
  // apiBaseUrl: where the HTTP API is ("" = this server); auth: {origin, clientId, redirectUri} or null
  const config = { apiBaseUrl: "", auth: null };
  const $ = (id) => document.getElementById(id);

  // ---- DOM helpers (text only) ------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svgEl(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setStatus(node, text, isError) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(isError));
  }

  // ---- API ---------------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (config.auth) {
      const token = currentToken();
      if (!token) {
        signedOut("Your sign-in has ended. Sign in again to go on.");
        throw new ApiError(401, "SIGN_IN_REQUIRED", "Sign in first.");
      }
      headers.Authorization = "Bearer " + token;
    }
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(config.apiBaseUrl + path, init);
    if (response.status === 401) {
      if (config.auth) {
        sessionStorage.removeItem(AUTH_KEY);
        signedOut("Your sign-in has ended. Sign in again to go on.");
      } else {
        throw new ApiError(401, "UNAUTHORIZED",
          "This server requires sign-in, but this web app has no sign-in settings (config.json).");
      }
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || "HTTP_" + response.status,
        error.message || "The server answered " + response.status + ".");
    }
    return data;
  }

  function contentTypeOf(file) {
    if (Object.values(TYPES).includes(file.type)) return file.type;
    const ext = (file.name.split(".").pop() || "").toLowerCase();
    return TYPES[ext] || null;
  }

  // ---- upload ----------------------------------------------------------------------------------------
  async function uploadFile(file) {
    const status = $("upload-status");
    const contentType = contentTypeOf(file);
    if (!contentType) {
      setStatus(status, "This kind of file is not supported. Use PDF, PNG, JPEG, TIFF or plain text.", true);
      return;
    }
    try {
      setStatus(status, "Uploading " + file.name + "…");
      const created = await api("POST", "/documents", {
        filename: file.name.slice(0, 255) || "document",
        content_type: contentType,
        bytes: file.size || undefined,
      });
      // A relative upload URL (``healthchat serve``) belongs to the API's origin; S3's is absolute.
      const uploadUrl = new URL(created.upload_url, (config.apiBaseUrl || location.origin) + "/");
      const put = await fetch(uploadUrl.href, {
        method: created.upload_method || "PUT",
        headers: created.upload_headers || { "Content-Type": contentType },
        body: file,
      });
      if (!put.ok) {
        let message = "The upload was refused (" + put.status + ").";
        try {
          const data = await put.json();
          if (data && data.error && data.error.message) message = data.error.message;
        } catch (err) {
          // S3 answers XML; keep the generic message
        }
        throw new ApiError(put.status, "UPLOAD_FAILED", message);
      }
      setStatus(status, "Uploaded " + file.name + ". Processing…");
      await refreshDocuments();
      selectDocument(created.document_id);
    } catch (err) {
      setStatus(status, "Upload failed: " + err.message, true);
    }
  }

  function setupUpload() {
    const zone = $("drop-zone");
    const input = $("file-input");
    input.addEventListener("change", () => {
      if (input.files && input.files[0]) uploadFile(input.files[0]);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach((name) =>
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("dragover");
      })
    );
    ["dragleave", "drop"].forEach((name) =>
      zone.addEventListener(name, () => zone.classList.remove("dragover"))
    );
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      const files = event.dataTransfer && event.dataTransfer.files;
      if (files && files.length) Array.from(files).forEach((file) => uploadFile(file));
    });
  }

  // ---- document list ---------------------------------------------------------------------------------
  function formatDate(value) {
    const date = new Date(value);
    return isNaN(date.getTime()) ? "" : date.toLocaleString();
  }

  const STATUS_WORDS = { PROCESSING: "processing", SUCCEEDED: "ready", FAILED: "failed" };

  async function refreshDocuments() {
    const list = $("document-list");
    try {
      const data = await api("GET", "/documents?limit=50");
      clear(list);
      $("documents-empty").hidden = data.documents.length > 0;
      for (const doc of data.documents) {
        const button = el("button", {
          type: "button",
          class: "doc-button",
          "data-document-id": doc.document_id,
          "aria-current": doc.document_id === state.selectedId ? "true" : "false",
        },
        el("span", { class: "doc-name", text: doc.filename }),
        el("span", { class: "doc-meta" },
          el("span", { class: "badge status-" + doc.status, text: STATUS_WORDS[doc.status] || doc.status }),
          " ",
          formatDate(doc.created_at)));
        button.addEventListener("click", () => selectDocument(doc.document_id, true));
        list.append(el("li", {}, button));
      }
    } catch (err) {
      $("documents-empty").hidden = false;
      $("documents-empty").textContent = "Could not load your documents: " + err.message;
    }
  }

  // ---- selected document -----------------------------------------------------------------------------
  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  async function selectDocument(id, moveFocus) {
    stopPolling();
    const changed = state.selectedId !== id;
    state.selectedId = id;
    document.querySelectorAll(".doc-button").forEach((b) =>
      b.setAttribute("aria-current", b.dataset.documentId === id ? "true" : "false"));
    const section = $("result");
    section.hidden = false;
    if (changed) {
      $("result-body").hidden = true;
      $("result-error").hidden = true;
      $("result-notice").hidden = true;
      clear($("qa-answer"));
      $("passage").hidden = true;
    }
    if (moveFocus) $("result-heading").focus();
    await pollDocument(id);
  }

  async function pollDocument(id) {
    if (state.selectedId !== id) return;
    const status = $("result-status");
    let doc;
    try {
      doc = await api("GET", "/documents/" + encodeURIComponent(id));
    } catch (err) {
      setStatus(status, "Could not load this document: " + err.message, true);
      return;
    }
    if (state.selectedId !== id) return;
    $("result-heading").textContent = "Results: " + doc.filename;
    if (doc.status === "PROCESSING") {
      setStatus(status, "Status: processing. This page updates by itself.");
      state.pollTimer = setTimeout(() => pollDocument(id), POLL_MS);
      return;
    }
    const upload = $("upload-status");
    if (doc.status === "SUCCEEDED") {
      setStatus(status, "Status: ready.");
      if (upload.textContent.indexOf("Processing") !== -1) setStatus(upload, "Done: " + doc.filename + " is ready.");
    } else {
      setStatus(status, "Status: failed.", true);
      if (upload.textContent.indexOf("Processing") !== -1) setStatus(upload, doc.filename + " could not be read.", true);
    }
    const box = $("result-error");
    box.hidden = !doc.error;
    if (doc.error) box.textContent = doc.error.message + " (" + doc.error.code + ")";
    renderResult(doc.status === "SUCCEEDED" ? doc.result : null);
    refreshDocuments();
  }

  // ---- results -----------------------------------------------------------------------------------------
  function renderResult(result) {
    state.result = result;
    const body = $("result-body");
    body.hidden = !result;
    if (!result) return;
    const notice = $("result-notice");
    notice.hidden = !result.notice;
    notice.textContent = result.notice || "";
    $("summary-text").textContent = (result.summary && result.summary.text) || "No summary.";
    renderPlainLanguage(result.plain_language);
    renderLabs(result.labs || []);
    renderMedications(result.medications || []);
    renderConditions(result.conditions || []);
    renderTips(result.tips || []);
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // Marks each glossary term in the plain-language text with <abbr> and a tooltip that shows on hover and
  // on keyboard focus (and hides with Escape), built from text nodes only.
  function renderPlainLanguage(plain) {
    const target = $("plain-text");
    clear(target);
    const text = (plain && plain.text) || "";
    if (!text) {
      target.textContent = "No plain-language version.";
      $("reading-grade").textContent = "";
      return;
    }
    const glossary = ((plain && plain.glossary) || []).filter((g) => g.term && g.plain);
    const byTerm = new Map(glossary.map((g) => [g.term.toLowerCase(), g.plain]));
    const terms = glossary.map((g) => g.term).sort((a, b) => b.length - a.length);
    const seen = new Set();
    if (!terms.length) {
      target.textContent = text;
    } else {
      const pattern = new RegExp("(^|[^A-Za-z0-9])(" + terms.map(escapeRegExp).join("|") + ")(?![A-Za-z0-9])", "gi");
      let last = 0;
      let match;
      while ((match = pattern.exec(text)) !== null) {
        const start = match.index + match[1].length;
        const word = match[2];
        const key = word.toLowerCase();
        if (seen.has(key)) continue; // explain each term once: the first time it appears
        seen.add(key);
        target.append(document.createTextNode(text.slice(last, start)));
        target.append(glossaryTerm(word, byTerm.get(key)));
        last = start + word.length;
      }
      target.append(document.createTextNode(text.slice(last)));
    }
    const grade = plain.reading_grade;
    $("reading-grade").textContent = typeof grade === "number"
      ? "Reading level: about grade " + Math.round(grade) + (typeof plain.source_reading_grade === "number"
        ? " (the original: grade " + Math.round(plain.source_reading_grade) + ")." : ".")
      : "";
  }

  function glossaryTerm(word, meaning) {
    state.tipSeq += 1;
    const tipId = "term-tip-" + state.tipSeq;
    const abbr = el("abbr", { class: "term", tabindex: "0", "aria-describedby": tipId }, word);
    const tip = el("span", { class: "tip", role: "tooltip", id: tipId, text: meaning });
    const wrap = el("span", { class: "term-wrap" }, abbr, tip);
    abbr.addEventListener("keydown", (event) => {
      if (event.key === "Escape") wrap.classList.add("tip-dismissed");
    });
    abbr.addEventListener("blur", () => wrap.classList.remove("tip-dismissed"));
    wrap.addEventListener("mouseleave", () => wrap.classList.remove("tip-dismissed"));
    return wrap;
  }

  function numberOf(value) {
    const match = /-?\d+(?:\.\d+)?/.exec(String(value).replace(/,/g, ""));
    return match ? parseFloat(match[0]) : null;
  }

  // A small bar: grey track, green band for the reference range, a bar up to the value in the flag's colour.
  function rangeChart(lab) {
    const value = numberOf(lab.value);
    const range = lab.reference_range || {};
    const low = typeof range.low === "number" ? range.low : null;
    const high = typeof range.high === "number" ? range.high : null;
    if (value === null || (low === null && high === null)) return el("span", { class: "hint", text: "no chart" });
    let min;
    let max;
    if (low !== null && high !== null) {
      const span = Math.max(high - low, Math.abs(high) * 0.1, 1e-6);
      min = Math.max(0, low - span * 0.5);
      max = high + span * 0.5;
    } else if (high !== null) {
      min = 0;
      max = high * 1.5 || 1;
    } else {
      min = 0;
      max = low * 2 || 1;
    }
    min = Math.min(min, value);
    max = Math.max(max, value * 1.05);
    const width = 160;
    const height = 28;
    const x = (v) => Math.round(((v - min) / (max - min || 1)) * width * 10) / 10;
    const flag = FLAG_WORDS[lab.flag] ? lab.flag : "unknown";
    const label = lab.name + ": " + lab.value + (lab.unit ? " " + lab.unit : "") + ", reference range " +
      (range.text || [low, high].filter((v) => v !== null).join(" to ")) + ", " + FLAG_WORDS[flag];
    const svg = svgEl("svg", {
      class: "range-chart", viewBox: "0 0 " + width + " " + height, width, height, role: "img",
      "aria-label": label, focusable: "false", "data-flag": flag,
    });
    const title = svgEl("title", {});
    title.textContent = label;
    svg.append(title);
    svg.append(svgEl("rect", { x: 0, y: 8, width, height: 12, rx: 3, fill: "#e6e8eb" }));
    const bandStart = low !== null ? x(low) : 0;
    const bandEnd = high !== null ? x(high) : width;
    svg.append(svgEl("rect", {
      class: "range-band", x: bandStart, y: 8, width: Math.max(bandEnd - bandStart, 1), height: 12, fill: "#b9dfc5",
    }));
    const colour = getComputedStyle(document.documentElement).getPropertyValue("--" + flag).trim() || "#595959";
    svg.append(svgEl("rect", {
      class: "value-bar", x: 0, y: 11, width: Math.max(x(value), 2), height: 6, rx: 2, fill: colour,
    }));
    svg.append(svgEl("rect", { class: "value-mark", x: Math.min(Math.max(x(value) - 1.5, 0), width - 3),
      y: 3, width: 3, height: 22, fill: colour }));
    return svg;
  }

  function renderLabs(labs) {
    const tbody = $("labs-body");
    clear(tbody);
    $("labs-empty").hidden = labs.length > 0;
    $("labs-table").hidden = labs.length === 0;
    for (const lab of labs) {
      const flag = FLAG_WORDS[lab.flag] ? lab.flag : "unknown";
      const range = lab.reference_range || {};
      const rangeText = range.text || [range.low, range.high].filter((v) => v !== null && v !== undefined).join("–");
      const rangeNote = range.source === "typical"
        ? el("span", { class: "range-note", text: "Typical adult range (not printed on the report)" })
        : null;
      const row = el("tr", { "data-begin": lab.begin_offset, "data-end": lab.end_offset, "data-flag": flag },
        el("td", { class: "lab-name-cell", "data-label": "Test" },
          el("span", { class: "lab-name", text: lab.name }),
          lab.explanation ? el("span", { class: "lab-explain", text: lab.explanation }) : null),
        el("td", { "data-label": "Result" }, lab.value + (lab.unit ? " " + lab.unit : "")),
        el("td", { "data-label": "Flag" },
          el("span", { class: "badge lab-flag flag-" + flag, text: FLAG_WORDS[flag] }),
          lab.flag_note ? el("span", { class: "range-note", text: lab.flag_note }) : null),
        el("td", { "data-label": "Reference range" }, rangeText || "not given", rangeNote),
        el("td", { "data-label": "Compared with range" }, rangeChart(lab)));
      tbody.append(row);
    }
  }

  function renderMedications(meds) {
    const list = $("meds-list");
    clear(list);
    $("meds-empty").hidden = meds.length > 0;
    for (const med of meds) {
      const details = [med.strength, med.dose, med.route, med.frequency].filter(Boolean).join(", ");
      list.append(el("li", { "data-begin": med.begin_offset, "data-end": med.end_offset },
        el("strong", { text: med.name }), details ? " — " + details : ""));
    }
  }

  function renderConditions(conditions) {
    const list = $("conditions-list");
    clear(list);
    $("conditions-empty").hidden = conditions.length > 0;
    for (const cond of conditions) {
      const item = el("li", { "data-begin": cond.begin_offset, "data-end": cond.end_offset },
        el("strong", { text: cond.name }),
        cond.negated ? el("span", { class: "negated", text: " — not present" }) : null,
        !cond.negated && cond.history ? el("span", { class: "hint", text: " — in the past" }) : null,
        cond.icd10cm ? el("span", { class: "hint", text: " (ICD-10-CM " + cond.icd10cm + ")" }) : null);
      if (cond.negated) item.classList.add("negated-item");
      list.append(item);
    }
  }

  function renderTips(tips) {
    const list = $("tips-list");
    clear(list);
    $("tips-empty").hidden = tips.length > 0;
    for (const tip of tips) {
      const urgent = tip.kind === "urgent";
      list.append(el("li", { class: urgent ? "tip-urgent" : null },
        urgent ? el("span", { class: "tip-label", text: "Important: " }) : null,
        tip.text,
        tip.reason ? el("span", { class: "hint", text: " Why: " + tip.reason }) : null,
        tip.source ? el("span", { class: "hint", text: " Source: " + tip.source }) : null));
    }
  }

  // ---- questions ---------------------------------------------------------------------------------------
  function setupQuestions() {
    $("qa-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("qa-input");
      const question = input.value.trim();
      const out = $("qa-answer");
      if (!question || !state.selectedId) return;
      const button = $("qa-submit");
      button.disabled = true;
      clear(out);
      $("passage").hidden = true;
      out.append(el("p", { class: "status", text: "Looking for the answer…" }));
      try {
        const answer = await api("POST", "/documents/" + encodeURIComponent(state.selectedId) + "/questions",
          { question });
        renderAnswer(answer);
      } catch (err) {
        clear(out);
        out.append(el("p", { class: "status error", text: "Could not answer: " + err.message }));
      } finally {
        button.disabled = false;
      }
    });
  }

  function renderAnswer(answer) {
    const out = $("qa-answer");
    clear(out);
    out.append(el("p", { class: "answer-text", id: "answer-text", text: answer.answer }));
    if (answer.notice) out.append(el("p", { class: "notice", text: answer.notice }));
    const citations = answer.citations || [];
    if (!citations.length) return;
    out.append(el("h4", { text: "Sources" }));
    const list = el("ol", { class: "citations" });
    citations.forEach((cite, index) => {
      const preview = cite.text.length > 140 ? cite.text.slice(0, 140) + "…" : cite.text;
      const button = el("button", {
        type: "button", class: "citation-button", "aria-pressed": "false", "aria-controls": "passage",
        "data-begin": cite.begin_offset, "data-end": cite.end_offset,
      }, (cite.title ? cite.title + ": " : "") + preview);
      button.addEventListener("click", () => showPassage(cite, button));
      const item = el("li", {}, button);
      // http and https: most NIH pages the knowledge base cites are http:// addresses.
      if (cite.source_url && /^https?:\/\//i.test(cite.source_url)) {
        item.append(" ", el("a", { href: cite.source_url, target: "_blank", rel: "noopener noreferrer",
          text: "(source)" }));
      }
      list.append(item);
    });
    out.append(list);
  }

  const SOURCE_WORDS = {
    document: "your document",
    structured: "the results read from your document",
    knowledge_base: "the NIH knowledge base",
    glossary: "the HealthChat glossary",
  };

  function overlaps(node, begin, end) {
    const b = Number(node.dataset.begin);
    const e = Number(node.dataset.end);
    return Number.isFinite(b) && Number.isFinite(e) && b < end && begin < e;
  }

  // Shows the cited passage with the quoted words marked, and marks the lab rows, medications and
  // conditions read from the same span of the document.
  function showPassage(cite, button) {
    document.querySelectorAll(".citation-button").forEach((b) => b.setAttribute("aria-pressed", "false"));
    button.setAttribute("aria-pressed", "true");
    const panel = $("passage");
    const quote = $("passage-text");
    clear(quote);
    quote.append(el("mark", { text: cite.text }));
    const where = SOURCE_WORDS[cite.source] || "the source";
    $("passage-where").textContent = cite.source === "knowledge_base"
      ? "From " + where + (cite.title ? " (" + cite.title + ")" : "") + "."
      : "From " + where + ", characters " + cite.begin_offset + " to " + cite.end_offset + ".";
    panel.hidden = false;
    document.querySelectorAll(".cited").forEach((node) => node.classList.remove("cited"));
    const inDocument = cite.source === "document" || cite.source === "structured";
    if (inDocument && (!cite.document_id || cite.document_id === state.selectedId)) {
      document.querySelectorAll("#labs-body tr, #meds-list li, #conditions-list li").forEach((node) => {
        if (overlaps(node, cite.begin_offset, cite.end_offset)) node.classList.add("cited");
      });
    }
    $("passage-heading").focus();
  }

  // ---- configuration and sign-in ----------------------------------------------------------------------
  function isLoopback(hostname) {
    return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
  }

  // https only; plain http is accepted for this machine (tests, `healthchat serve`) and nothing else.
  function trustedUrl(text) {
    const url = new URL(text, window.location.href);
    if (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname))) return url;
    throw new Error("not an https address: " + url.origin);
  }

  async function loadConfig() {
    let data = {};
    try {
      const response = await fetch("config.json", { cache: "no-store", credentials: "same-origin" });
      if (response.ok) data = await response.json();
    } catch (err) {
      data = {};
    }
    if (!data || typeof data !== "object") data = {};
    if (typeof data.apiBaseUrl === "string" && data.apiBaseUrl) {
      config.apiBaseUrl = trustedUrl(data.apiBaseUrl).href.replace(/\/+$/, "");
    }
    if (data.cognitoDomain && data.clientId && data.redirectUri) {
      const domain = String(data.cognitoDomain);
      const host = domain.includes("://") ? new URL(domain).host : domain.replace(/\/+$/, "");
      const scheme = isLoopback(new URL("http://" + host).hostname) ? "http://" : "https://";
      trustedUrl(String(data.redirectUri));
      config.auth = {
        origin: trustedUrl(scheme + host).origin,
        clientId: String(data.clientId),
        // sent as configured: Cognito compares it with the client's callback URLs character by character
        redirectUri: String(data.redirectUri),
      };
    }
  }

  function base64url(bytes) {
    let text = "";
    bytes.forEach((b) => { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(byteCount) {
    return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
  }

  async function s256(text) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return base64url(new Uint8Array(digest));
  }

  function readJson(key) {
    try {
      return JSON.parse(sessionStorage.getItem(key) || "null");
    } catch (err) {
      return null;
    }
  }

  // The payload of a JWT (not verified here: the API verifies every token; this only reads exp and email).
  function jwtClaims(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part + "===".slice((part.length + 3) % 4)), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes)) || {};
    } catch (err) {
      return {};
    }
  }

  function currentToken() {
    const auth = readJson(AUTH_KEY);
    if (!auth) return null;
    if (!(auth.expiresAt > Date.now() + EXPIRY_SKEW_MS)) {
      sessionStorage.removeItem(AUTH_KEY);
      return null;
    }
    // API Gateway's JWT authorizer takes either (access tokens name the client in client_id)
    return auth.accessToken || auth.idToken || null;
  }

  async function signIn() {
    if (!window.crypto || !crypto.subtle) {
      signedOut("Sign-in needs a secure (https) page.", true);
      return;
    }
    const verifier = randomString(48); // 64 characters, within RFC 7636's 43 to 128
    const stateValue = randomString(24);
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: stateValue }));
    const params = new URLSearchParams({
      response_type: "code",
      client_id: config.auth.clientId,
      redirect_uri: config.auth.redirectUri,
      scope: OAUTH_SCOPES,
      state: stateValue,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    });
    window.location.assign(config.auth.origin + "/oauth2/authorize?" + params.toString());
  }

  // Back from the Hosted UI with ?code=&state= (or ?error=): trade the code and our verifier for tokens.
  async function completeSignIn() {
    const params = new URLSearchParams(window.location.search);
    if (!params.has("code") && !params.has("error")) return;
    const pending = readJson(PKCE_KEY);
    sessionStorage.removeItem(PKCE_KEY);
    // the code is single-use: keep it out of the address bar and the history
    history.replaceState(null, "", window.location.pathname + window.location.hash);
    if (params.has("error")) {
      const code = (params.get("error") || "").replace(/[^a-z_]/g, "").slice(0, 40);
      throw new Error("Sign-in did not finish (" + (code || "error") + "). Try again.");
    }
    if (!pending || !pending.verifier || pending.state !== params.get("state")) {
      throw new Error("Sign-in failed: this answer does not belong to a sign-in started here. Try again.");
    }
    let response;
    try {
      response = await fetch(config.auth.origin + "/oauth2/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        credentials: "omit",
        body: new URLSearchParams({
          grant_type: "authorization_code",
          client_id: config.auth.clientId,
          code: params.get("code") || "",
          redirect_uri: config.auth.redirectUri,
          code_verifier: pending.verifier,
        }),
      });
    } catch (err) {
      throw new Error("Sign-in failed: the sign-in service could not be reached. Try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      data = null;
    }
    if (!response.ok || !data || !(data.access_token || data.id_token)) {
      const code = String((data && data.error) || response.status).replace(/[^a-z_0-9]/g, "").slice(0, 40);
      throw new Error("Sign-in failed: the sign-in service refused it (" + code + "). Try again.");
    }
    const token = data.access_token || data.id_token;
    const exp = Number(jwtClaims(token).exp) * 1000;
    const lifetime = Date.now() + (Number(data.expires_in) || 3600) * 1000;
    sessionStorage.setItem(AUTH_KEY, JSON.stringify({
      accessToken: data.access_token || null,
      idToken: data.id_token || null,
      expiresAt: Number.isFinite(exp) && exp > 0 ? Math.min(exp, lifetime) : lifetime,
    }));
  }

  function signedOut(message, isError) {
    stopPolling();
    state.selectedId = null;
    $("app-panels").hidden = true;
    $("account").hidden = true;
    $("signin-panel").hidden = false;
    const box = $("signin-error");
    box.hidden = !(message && isError);
    box.textContent = isError ? message : "";
    $("signin-status").textContent = isError ? "" : message || "";
  }

  function signedIn() {
    const auth = readJson(AUTH_KEY) || {};
    const claims = jwtClaims(auth.idToken || "");
    $("account-name").textContent = claims.email ? "Signed in as " + claims.email : "Signed in";
    $("signin-panel").hidden = true;
    $("account").hidden = false;
    $("app-panels").hidden = false;
  }

  function setupSignIn() {
    $("sign-in").addEventListener("click", () => {
      signIn().catch(() => signedOut("Sign-in could not start. Try again.", true));
    });
    const logout = new URL(config.auth.origin + "/logout");
    logout.search = new URLSearchParams({
      client_id: config.auth.clientId, logout_uri: config.auth.redirectUri,
    }).toString();
    const link = $("sign-out");
    link.href = logout.href;
    // the tokens go first; the link then ends the Hosted UI session and comes back signed out
    link.addEventListener("click", () => {
      sessionStorage.removeItem(AUTH_KEY);
      sessionStorage.removeItem(PKCE_KEY);
    });
  }

  // ---- startup -------------------------------------------------------------------------------------------
  async function start() {
    setupUpload();
    setupQuestions();
    $("refresh-documents").addEventListener("click", refreshDocuments);
    try {
      await loadConfig();
    } catch (err) {
      config.auth = null;
      $("app-panels").hidden = true;
      $("signin-panel").hidden = false;
      $("sign-in").hidden = true;
      $("signin-error").hidden = false;
      $("signin-error").textContent = "This web app's settings (config.json) are not valid: " + err.message;
      return;
    }
    if (config.auth) {
      setupSignIn();
      try {
        await completeSignIn();
      } catch (err) {
        signedOut(err.message, true);
        return;
      }
      if (!currentToken()) {
        signedOut("");
        return;
      }
      signedIn();
    }
    $("app-panels").hidden = false;
    refreshDocuments();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
