/* citybot resident simulator — a LINE-like chat page (vanilla JS, no build step).
 *
 * Talks only to this server's /simulator/api/* endpoints, which proxy to the fake LINE
 * platform and post signed webhooks to the bot. All bot content is inserted with
 * textContent / DOM nodes, never as HTML.
 */
(function () {
  "use strict";

  const BASE = document.body.dataset.base || "/simulator/";
  const POLL_MS = 1000;
  const REFRESH_MS = 5000;
  const LOG_LIMIT = 300;
  const BOT_NAME = "citybot";

  const $ = (id) => document.getElementById(id);
  const ui = {
    error: $("error-banner"), list: $("resident-list"), empty: $("resident-empty"),
    addForm: $("add-resident-form"), newName: $("new-resident-name"),
    newLang: $("new-resident-language"), newFollow: $("new-resident-follow"),
    title: $("chat-title"), followState: $("follow-state"),
    followBtn: $("follow-btn"), blockBtn: $("block-btn"),
    log: $("chat-log"), quick: $("quick-replies"),
    composer: $("composer"), input: $("message-input"), sendBtn: $("send-btn"),
    plus: $("plus-btn"), extras: $("extras"),
    locForm: $("location-form"), lat: $("loc-lat"), lon: $("loc-lon"),
    locTitle: $("loc-title"), locAddress: $("loc-address"), locCancel: $("loc-cancel"),
    openLoc: $("open-location"), openSticker: $("open-sticker"),
    stickerPanel: $("sticker-panel"), stickerGrid: $("sticker-grid"), imageInput: $("image-input"),
    rm: $("richmenu"), rmStage: $("richmenu-stage"), rmBar: $("richmenu-bar"),
    dtDialog: $("datetime-dialog"), dtForm: $("datetime-form"), dtInput: $("datetime-input"),
    dtLabel: $("datetime-label"), dtCancel: $("datetime-cancel"),
    toast: $("toast"), debug: $("debug-toggle"),
  };

  const S = {
    residents: [],
    current: null,          // resident object {userId, displayName, language, following}
    after: 0,               // last message seq seen
    polling: false,
    generation: 0,          // bumped on every resident switch
    atEnd: true,            // the chat log is scrolled to its end
    loading: false,         // a conversation is being (re)loaded: polling waits
    lastDay: null,          // date divider state
    lastBotGroup: null,     // requestId of the previous bot bubble (avatar grouping)
    lastItemSide: null,
    quickOwner: null,       // the bot item whose quick reply is shown
    rm: { linkedId: null, shown: null, overridden: false, expanded: {} },
    debug: localStorage.getItem("citybot-sim:debug") === "1",
    pendingDatetime: null,
  };

  // Stand-in stickers: LINE's sticker images are not reachable offline, so each one is
  // drawn as an emoji. Ids are from LINE's free sticker packages.
  const STICKERS = [
    ["446", "1988", "😊"], ["446", "1989", "😆"], ["446", "1990", "😍"], ["446", "1991", "😢"],
    ["446", "1992", "🙏"], ["446", "1993", "👍"], ["446", "1994", "😴"], ["446", "1995", "😲"],
    ["789", "10855", "🎉"], ["789", "10856", "👋"], ["789", "10857", "❤️"], ["789", "10858", "🙇"],
  ];
  const stickerEmoji = (p, s) => (STICKERS.find((x) => x[0] === String(p) && x[1] === String(s)) || [0, 0, "🧸"])[2];

  // ---------------------------------------------------------------------------- helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") node.className = v;
        else if (k === "text") node.textContent = v;
        else if (k === "style" && typeof v === "object") Object.assign(node.style, v);
        else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  class ApiError extends Error {
    constructor(message, status, data) { super(message); this.status = status; this.data = data; }
  }

  async function api(method, path, body) {
    const opts = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await fetch(BASE + path, opts);
    } catch (e) {
      throw new ApiError("シミュレーターのサーバーに接続できません (the simulator server is unreachable)", 0);
    }
    let data = null;
    try { data = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) throw new ApiError((data && data.error) || `HTTP ${resp.status}`, resp.status, data);
    return data;
  }

  function showError(msg) { ui.error.textContent = msg; ui.error.hidden = false; }
  function clearError() { ui.error.hidden = true; ui.error.textContent = ""; }

  let toastTimer = null;
  function toast(msg, kind) {
    ui.toast.textContent = msg;
    ui.toast.className = "toast" + (kind ? " toast-" + kind : "");
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 4000);
  }

  function toMs(at) {
    if (at === undefined || at === null) return Date.now();
    if (typeof at === "number") return at < 1e12 ? at * 1000 : at;
    const n = Number(at);
    if (!Number.isNaN(n)) return toMs(n);
    const t = Date.parse(at);
    return Number.isNaN(t) ? Date.now() : t;
  }
  const pad = (n) => String(n).padStart(2, "0");
  const hhmm = (ms) => { const d = new Date(ms); return `${pad(d.getHours())}:${pad(d.getMinutes())}`; };
  const dayLabel = (ms) => {
    const d = new Date(ms);
    const wd = "日月火水木金土"[d.getDay()];
    return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())}(${wd})`;
  };

  function safeUrl(u, forImage) {
    if (typeof u !== "string" || !u) return null;
    if (u.startsWith("/")) return u;
    if (/^https?:\/\//i.test(u)) return u;
    if (forImage && /^data:image\//i.test(u)) return u;
    if (!forImage && /^(tel|mailto|line):/i.test(u)) return u;
    return null;
  }

  function img(src, attrs) {
    const url = safeUrl(src, true);
    const node = el("img", Object.assign({ loading: "lazy", decoding: "async", alt: "" }, attrs || {}));
    if (url) node.src = url;
    const missing = () => {
      // an unreachable image (no internet here) keeps its box, striped, with its host
      let host = "";
      try { host = new URL(src, location.href).host; } catch (e) { host = ""; }
      const ph = el("div", { class: `${node.className} img-missing`, role: "img",
        "aria-label": node.alt || "画像 image", title: `画像を読み込めません (image not reachable): ${src || ""}` });
      ph.style.cssText = node.style.cssText;
      if (!node.classList.contains("fx-icon") && !node.classList.contains("chip-icon")) {
        ph.append(el("span", { class: "img-missing-label", text: host || "画像" }));
      }
      if (node.parentNode) node.replaceWith(ph);
      keepAtEnd();
    };
    node.addEventListener("error", missing, { once: true });
    node.addEventListener("load", keepAtEnd, { once: true });
    if (!url) queueMicrotask(missing);
    return node;
  }

  function actionLabel(a) {
    if (!a) return "";
    return a.label || a.text || a.displayText || a.data || a.uri || a.linkUri || a.type || "";
  }

  function storeKey(uid) { return "citybot-sim:log:" + uid; }
  function loadLocal(uid) {
    try { return JSON.parse(localStorage.getItem(storeKey(uid)) || "[]"); } catch (e) { return []; }
  }
  function saveLocal(uid, item) {
    const items = loadLocal(uid);
    items.push(item);
    try { localStorage.setItem(storeKey(uid), JSON.stringify(items.slice(-LOG_LIMIT))); } catch (e) { /* full */ }
  }

  // ---------------------------------------------------------------------------- residents
  async function loadResidents(selectId) {
    let data;
    try {
      data = await api("GET", "api/residents");
    } catch (e) {
      showError(`住民一覧を取得できません: ${e.message}`);
      return;
    }
    const fresh = data.residents || [];
    const changed = JSON.stringify(fresh) !== JSON.stringify(S.residents);
    S.residents = fresh;
    if (S.current && !fresh.some((r) => r.userId === S.current.userId)) {
      S.current = null;                       // gone, e.g. the fake platform restarted
      ui.log.replaceChildren();
      hideQuickReplies();
      renderRichMenu(null);
      renderHeader();
    }
    if (changed) renderResidents();
    const wanted = selectId || (S.current && S.current.userId) || localStorage.getItem("citybot-sim:current");
    const found = S.residents.find((r) => r.userId === wanted);
    if (found && (!S.current || S.current.userId !== found.userId)) await selectResident(found.userId);
    else if (found) { S.current = found; renderHeader(); }
  }

  function renderResidents() {
    ui.list.replaceChildren();
    ui.empty.hidden = S.residents.length > 0;
    for (const r of S.residents) {
      const selected = S.current && S.current.userId === r.userId;
      const btn = el("button", {
        type: "button", class: "resident" + (selected ? " selected" : ""),
        "data-testid": "resident-item", "data-user-id": r.userId, "aria-pressed": selected ? "true" : "false",
        onclick: () => selectResident(r.userId),
      },
      el("span", { class: "avatar", "aria-hidden": "true", text: (r.displayName || "?").slice(0, 1) }),
      el("span", { class: "resident-text" },
        el("span", { class: "resident-name", text: r.displayName || r.userId }),
        el("span", { class: "resident-sub" },
          el("span", { class: "lang", text: r.language || "ja" }),
          r.following === false ? el("span", { class: "blocked", text: "ブロック中 blocked" }) : null)));
      ui.list.append(el("li", null, btn));
    }
  }

  function renderHeader() {
    const r = S.current;
    const on = !!r;
    ui.title.textContent = r ? r.displayName : "住民を選んでください";
    if (!r) ui.title.append(" ", el("small", { lang: "en", text: "Pick a resident" }));
    ui.followState.textContent = r ? (r.following === false ? "未フォロー/ブロック中 (not following)" : "友だち (following)") : "";
    ui.followState.className = "follow-state" + (r && r.following === false ? " off" : "");
    ui.followBtn.disabled = !on || r.following !== false;
    ui.blockBtn.disabled = !on || r.following === false;
    ui.input.disabled = !on;
    ui.sendBtn.disabled = !on;
  }

  async function selectResident(userId) {
    const r = S.residents.find((x) => x.userId === userId);
    if (!r) return;
    S.current = r;
    S.generation += 1;
    localStorage.setItem("citybot-sim:current", userId);
    S.after = 0;
    S.lastDay = null; S.lastBotGroup = null; S.lastItemSide = null; S.quickOwner = null;
    S.rm = { linkedId: undefined, shown: null, overridden: false, expanded: S.rm.expanded };
    ui.log.replaceChildren();
    hideQuickReplies();
    renderResidents();
    renderHeader();
    await loadConversation(userId);
    refreshRichMenu(true);
    ui.input.focus();
  }

  async function addResident(ev) {
    ev.preventDefault();
    const displayName = ui.newName.value.trim();
    if (!displayName) { ui.newName.focus(); return; }
    try {
      const made = await api("POST", "api/residents", { displayName, language: ui.newLang.value });
      ui.newName.value = "";
      await loadResidents(made.userId);
      if (ui.newFollow.checked) await sendFollow(true);
      toast(`${displayName} さんを追加しました (added)`);
    } catch (e) {
      showError(`住民を追加できません: ${e.message}`);
    }
  }

  // ---------------------------------------------------------------------------- timeline
  function dayDivider(ms) {
    const label = dayLabel(ms);
    if (label === S.lastDay) return;
    S.lastDay = label;
    ui.log.append(el("div", { class: "day-divider", role: "separator" }, el("span", { text: label })));
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
    S.atEnd = true;
  }

  // images load (or fail) after their bubble was added: stay at the end if we were there
  function keepAtEnd() {
    if (S.atEnd) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function appendItem(item, opts) {
    const at = toMs(item.at);
    dayDivider(at);
    let node;
    if (item.side === "bot") node = botRow(item, at);
    else if (item.side === "me") node = meRow(item, at);
    else node = el("div", { class: "system-note", "data-testid": "system-note", text: item.text });
    ui.log.append(node);
    S.lastItemSide = item.side;
    if (item.side !== "bot") S.lastBotGroup = null;
    if (!opts || !opts.noScroll) scrollToEnd();
    return node;
  }

  function botRow(item, at) {
    const m = item.message || {};
    const group = item.requestId || null;
    const continued = group && group === S.lastBotGroup;
    S.lastBotGroup = group || Symbol("single");
    const senderName = (m.sender && m.sender.name) || BOT_NAME;
    const avatar = m.sender && m.sender.iconUrl
      ? img(m.sender.iconUrl, { class: "avatar bot-avatar", alt: "" })
      : el("span", { class: "avatar bot-avatar", "aria-hidden": "true", text: "市" });
    const body = renderMessage(m, item);
    const meta = el("div", { class: "meta" },
      item.via ? el("span", { class: "via via-" + item.via, "data-testid": "via-tag", text: item.via }) : null,
      el("time", { datetime: new Date(at).toISOString(), text: hhmm(at) }));
    const row = el("div", {
      class: "row bot" + (continued ? " continued" : ""), "data-testid": "bot-message",
      "data-seq": item.seq, "data-type": m.type || "", "aria-label": `${senderName}: ${summarize(m)}`,
    },
    el("div", { class: "avatar-col" }, continued ? null : avatar),
    el("div", { class: "content" },
      continued ? null : el("div", { class: "sender", text: senderName }),
      el("div", { class: "bubble-line" }, body, meta)));
    return row;
  }

  function meRow(item, at) {
    let body;
    switch (item.kind) {
      case "sticker":
        body = el("div", { class: "sticker", role: "img", "aria-label": `スタンプ sticker ${item.packageId}/${item.stickerId}` },
          el("span", { class: "sticker-face", text: stickerEmoji(item.packageId, item.stickerId) }));
        break;
      case "location":
        body = locationCard(item, false);
        break;
      case "image":
        body = el("div", { class: "image-msg" },
          item.preview ? img(item.preview, { alt: "送信した画像 sent image" }) : el("div", { class: "img-placeholder", text: "🖼️ 画像 image" }));
        break;
      default:
        body = el("div", { class: "bubble me-bubble", text: item.text || "" });
    }
    const status = el("span", { class: "read-state", "data-testid": "read-state", text: item.state === "failed" ? "未達" : (item.state === "sending" ? "" : "既読") });
    if (item.state === "failed") status.classList.add("failed");
    const meta = el("div", { class: "meta" }, status, el("time", { datetime: new Date(at).toISOString(), text: hhmm(at) }));
    const row = el("div", { class: "row me", "data-testid": "my-message", "data-kind": item.kind || "text" },
      el("div", { class: "content" }, el("div", { class: "bubble-line" }, meta, body)));
    row._status = status;
    return row;
  }

  function summarize(m) {
    switch (m.type) {
      case "text": return m.text || "";
      case "textV2": return m.text || "";
      case "sticker": return "スタンプ";
      case "image": return "画像";
      case "video": return "動画";
      case "audio": return "音声";
      case "location": return `位置情報 ${m.title || ""}`;
      case "template": case "flex": case "imagemap": return m.altText || m.type;
      default: return m.type || "";
    }
  }

  async function loadConversation(userId) {
    let data;
    S.loading = true;
    try {
      data = await api("GET", `api/messages?userId=${encodeURIComponent(userId)}&after=0`);
      clearError();
    } catch (e) {
      showError(`メッセージを取得できません: ${e.message}`);
      data = { messages: [], last: 0 };
    } finally {
      S.loading = false;
    }
    if (!S.current || S.current.userId !== userId) return;
    const items = loadLocal(userId).map((x) => Object.assign({}, x));
    for (const m of data.messages || []) {
      items.push({ side: "bot", at: toMs(m.at), seq: m.seq, via: m.via, requestId: m.requestId, message: m.message });
      S.after = Math.max(S.after, Number(m.seq) || 0);
    }
    if (typeof data.last === "number") S.after = Math.max(S.after, data.last);
    items.sort((a, b) => toMs(a.at) - toMs(b.at) || (a.seq || 0) - (b.seq || 0));
    let lastBot = null;
    for (const it of items) {
      appendItem(it, { noScroll: true });
      lastBot = it.side === "bot" ? it : null;
    }
    if (lastBot) showQuickReplies(lastBot);
    scrollToEnd();
  }

  async function poll() {
    if (!S.current || S.polling || S.loading) return;
    S.polling = true;
    const uid = S.current.userId;
    const generation = S.generation;
    try {
      const data = await api("GET", `api/messages?userId=${encodeURIComponent(uid)}&after=${S.after}`);
      clearError();
      if (!S.current || S.current.userId !== uid || generation !== S.generation || S.loading) return;
      let lastBot = null;
      for (const m of data.messages || []) {
        if (Number(m.seq) <= S.after) continue;
        S.after = Number(m.seq);
        const item = { side: "bot", at: toMs(m.at), seq: m.seq, via: m.via, requestId: m.requestId, message: m.message };
        appendItem(item);
        lastBot = item;
      }
      if (typeof data.last === "number") S.after = Math.max(S.after, data.last);
      if (lastBot) {
        showQuickReplies(lastBot);
        refreshRichMenu(false);
      }
    } catch (e) {
      showError(`メッセージを取得できません: ${e.message}`);
    } finally {
      S.polling = false;
    }
  }

  // ---------------------------------------------------------------------------- quick reply
  function hideQuickReplies() {
    ui.quick.hidden = true;
    ui.quick.replaceChildren();
    S.quickOwner = null;
  }

  function showQuickReplies(item) {
    const qr = item.message && item.message.quickReply;
    if (!qr || !Array.isArray(qr.items) || !qr.items.length || S.lastItemSide !== "bot") {
      hideQuickReplies();
      return;
    }
    S.quickOwner = item;
    ui.quick.replaceChildren();
    qr.items.forEach((q, i) => {
      const a = q.action || {};
      const chip = el("button", {
        type: "button", class: "chip", "data-testid": "quick-reply", "data-index": i, "data-action-type": a.type,
        onclick: () => { doAction(a, { source: "quickReply" }); },
      }, q.imageUrl ? img(q.imageUrl, { class: "chip-icon", alt: "" }) : chipIcon(a.type), el("span", { text: actionLabel(a) }));
      ui.quick.append(chip);
    });
    ui.quick.hidden = false;
  }

  function chipIcon(type) {
    const icons = { location: "📍", camera: "📷", cameraRoll: "🖼️", datetimepicker: "📅", uri: "🔗", clipboard: "📋" };
    return icons[type] ? el("span", { class: "chip-icon", "aria-hidden": "true", text: icons[type] }) : null;
  }

  // ---------------------------------------------------------------------------- sending
  async function sendEvent(payload, mine) {
    if (!S.current) { toast("先に住民を選んでください (pick a resident first)", "warn"); return null; }
    const uid = S.current.userId;
    let row = null;
    if (mine) {
      const item = Object.assign({ side: "me", at: Date.now(), state: "sending" }, mine);
      row = appendItem(item);
      const stored = Object.assign({}, item, { state: "sent" });
      if (stored.kind === "image" && stored.preview && stored.preview.length > 150000) delete stored.preview;
      saveLocal(uid, stored);
      hideQuickReplies();
    }
    let result = null;
    try {
      result = await api("POST", "api/send", Object.assign({ userId: uid }, payload));
      clearError();
      const ok = result.status >= 200 && result.status < 300;
      if (row) row._status.textContent = ok ? "既読" : "未達";
      if (row && !ok) row._status.classList.add("failed");
      if (!ok) toast(`Webhook が ${result.status} を返しました (webhook answered ${result.status})`, "error");
      else if (result.lineWouldTimeOut) toast(`Webhook の応答に ${result.elapsedMs} ms かかりました — LINE は 2 秒で打ち切ります`, "warn");
      if (S.debug) appendItem({ side: "system", text: `→ ${payload.kind} webhook ${result.status} (${result.elapsedMs} ms) ${result.eventId || ""}` });
    } catch (e) {
      if (row) { row._status.textContent = "未達"; row._status.classList.add("failed"); }
      if (e.status === 400) toast(e.message, "error");
      else showError(`送信できません: ${e.message}`);
    }
    setTimeout(poll, 150);
    return result;
  }

  function sendText(text) {
    if (!text || !text.trim()) return;
    return sendEvent({ kind: "text", text }, { kind: "text", text });
  }

  async function sendFollow(follow) {
    if (!S.current) return;
    const kind = follow ? "follow" : "unfollow";
    const note = follow ? "友だち追加しました (followed)" : "ブロックしました (blocked)";
    appendItem({ side: "system", at: Date.now(), text: note });
    saveLocal(S.current.userId, { side: "system", at: Date.now(), text: note });
    await sendEvent({ kind });
    await loadResidents();
    refreshRichMenu(true);
  }

  function onComposerSubmit(ev) {
    ev.preventDefault();
    const text = ui.input.value;
    if (!text.trim()) return;
    ui.input.value = "";
    autoGrow();
    sendText(text);
  }

  function autoGrow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 140) + "px";
  }

  // ---------------------------------------------------------------------------- actions
  function doAction(a, ctx) {
    if (!a || !a.type) return;
    if (!S.current) { toast("先に住民を選んでください (pick a resident first)", "warn"); return; }
    switch (a.type) {
      case "message":
        return sendText(a.text || a.label || "");
      case "postback": {
        const shown = a.displayText || a.text;
        applyInputOption(a);
        if (!shown && S.debug) appendItem({ side: "system", text: `postback data=${a.data || ""}` });
        if (!shown) hideQuickReplies();
        return sendEvent({ kind: "postback", data: a.data || "", displayText: shown || undefined },
          shown ? { kind: "text", text: shown } : null);
      }
      case "uri": {
        const u = safeUrl((a.altUri && a.altUri.desktop) || a.uri, false);
        if (!u) { toast(`開けないURIです (cannot open): ${a.uri}`, "error"); return; }
        window.open(u, "_blank", "noopener,noreferrer");
        return;
      }
      case "location":
        return openLocationForm();
      case "datetimepicker":
        return openDatetime(a);
      case "richmenuswitch":
        return switchRichMenu(a);
      case "camera":
      case "cameraRoll":
        ui.imageInput.click();
        return;
      case "clipboard": {
        const t = a.clipboardText || "";
        const done = () => toast(`コピーしました (copied): ${t}`);
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(t).then(done, done);
        else done();
        return;
      }
      default:
        toast(`未対応のアクション (unsupported action): ${a.type}`, "warn");
    }
  }

  function applyInputOption(a) {
    if (a.inputOption === "closeRichMenu") setRichMenuExpanded(false);
    else if (a.inputOption === "openRichMenu") setRichMenuExpanded(true);
    else if (a.inputOption === "openKeyboard" || a.inputOption === "openVoice") {
      setRichMenuExpanded(false);
      if (a.fillInText) ui.input.value = a.fillInText;
      ui.input.focus();
    }
  }

  function imagemapAction(a) {
    if (a.type === "message") return sendText(a.text);
    if (a.type === "uri") return doAction({ type: "uri", uri: a.linkUri });
    if (a.type === "clipboard") return doAction({ type: "clipboard", clipboardText: a.clipboardText });
  }

  // ---------------------------------------------------------------------------- extras
  function toggleExtras(show) {
    const open = show === undefined ? ui.extras.hidden : show;
    ui.extras.hidden = !open;
    ui.plus.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { ui.locForm.hidden = true; ui.stickerPanel.hidden = true; }
  }

  function openLocationForm() {
    toggleExtras(true);
    ui.stickerPanel.hidden = true;
    ui.locForm.hidden = false;
    ui.lat.focus();
  }

  function sendLocationForm(ev) {
    ev.preventDefault();
    const latitude = Number(ui.lat.value), longitude = Number(ui.lon.value);
    if (!Number.isFinite(latitude) || latitude < -90 || latitude > 90 ||
        !Number.isFinite(longitude) || longitude < -180 || longitude > 180 || ui.lat.value === "" || ui.lon.value === "") {
      toast("緯度は-90〜90、経度は-180〜180で入力してください (latitude -90..90, longitude -180..180)", "error");
      return;
    }
    const title = ui.locTitle.value.trim() || undefined, address = ui.locAddress.value.trim() || undefined;
    toggleExtras(false);
    sendEvent({ kind: "location", latitude, longitude, title, address },
      { kind: "location", latitude, longitude, title, address });
  }

  function buildStickers() {
    for (const [p, s, e] of STICKERS) {
      ui.stickerGrid.append(el("button", {
        type: "button", class: "sticker-btn", "data-testid": "sticker", "data-package-id": p, "data-sticker-id": s,
        "aria-label": `スタンプ ${p}/${s}`, title: `${p}/${s}`,
        onclick: () => {
          toggleExtras(false);
          sendEvent({ kind: "sticker", packageId: p, stickerId: s }, { kind: "sticker", packageId: p, stickerId: s });
        },
      }, el("span", { "aria-hidden": "true", text: e })));
    }
  }

  function onImagePicked() {
    const file = ui.imageInput.files && ui.imageInput.files[0];
    ui.imageInput.value = "";
    if (!file) return;
    if (file.size > 10 * 1024 * 1024) { toast("10MBまでの画像を選んでください (max 10 MB)", "error"); return; }
    const reader = new FileReader();
    reader.onload = () => {
      toggleExtras(false);
      const dataUrl = String(reader.result);
      // The fake platform keeps the picture (as LINE does) and the bot downloads it from there.
      sendEvent({ kind: "image", image: dataUrl }, { kind: "image", preview: dataUrl });
    };
    reader.readAsDataURL(file);
  }

  // ---------------------------------------------------------------------------- datetime picker
  function normalizeDt(v, mode) {
    if (!v) return "";
    v = String(v);
    if (mode === "datetime") return v.replace("t", "T");
    return v;
  }

  function openDatetime(a) {
    const mode = ["date", "time", "datetime"].includes(a.mode) ? a.mode : "datetime";
    S.pendingDatetime = a;
    ui.dtInput.type = mode === "datetime" ? "datetime-local" : mode;
    ui.dtInput.value = normalizeDt(a.initial, mode);
    if (a.min) ui.dtInput.min = normalizeDt(a.min, mode); else ui.dtInput.removeAttribute("min");
    if (a.max) ui.dtInput.max = normalizeDt(a.max, mode); else ui.dtInput.removeAttribute("max");
    ui.dtLabel.textContent = { date: "日付 (date)", time: "時刻 (time)", datetime: "日時 (date and time)" }[mode];
    ui.dtInput.dataset.mode = mode;
    if (typeof ui.dtDialog.showModal === "function") ui.dtDialog.showModal(); else ui.dtDialog.setAttribute("open", "");
    ui.dtInput.focus();
  }

  function submitDatetime(ev) {
    ev.preventDefault();
    const a = S.pendingDatetime;
    const mode = ui.dtInput.dataset.mode;
    const value = ui.dtInput.value;
    if (!a || !value) { ui.dtInput.reportValidity(); return; }
    closeDatetime();
    sendEvent({ kind: "postback", data: a.data || "", params: { [mode]: value } }, null);
    if (S.debug) appendItem({ side: "system", text: `datetimepicker ${mode}=${value}` });
    hideQuickReplies();
  }

  function closeDatetime() {
    S.pendingDatetime = null;
    if (typeof ui.dtDialog.close === "function") ui.dtDialog.close(); else ui.dtDialog.removeAttribute("open");
  }

  // ---------------------------------------------------------------------------- rich menu
  async function refreshRichMenu(force) {
    if (!S.current) return;
    const uid = S.current.userId;
    let data;
    try {
      data = await api("GET", `api/richmenu?userId=${encodeURIComponent(uid)}`);
    } catch (e) {
      if (force) showError(`リッチメニューを取得できません: ${e.message}`);
      return;
    }
    if (!S.current || S.current.userId !== uid) return;
    if (force || data.richMenuId !== S.rm.linkedId) {
      S.rm.linkedId = data.richMenuId;
      S.rm.overridden = false;
      renderRichMenu(data);
    }
  }

  function renderRichMenu(data) {
    const menu = data && data.richMenu;
    ui.rmStage.replaceChildren();
    if (!menu || !menu.size) { ui.rm.hidden = true; S.rm.shown = null; return; }
    S.rm.shown = data.richMenuId;
    const w = menu.size.width || 2500, h = menu.size.height || 1686;
    ui.rmStage.style.aspectRatio = `${w} / ${h}`;
    ui.rm.dataset.richMenuId = data.richMenuId || "";
    if (data.imageUrl) {
      const image = el("img", { class: "richmenu-image", alt: menu.name || "リッチメニュー rich menu", src: data.imageUrl });
      image.addEventListener("error", () => { ui.rmStage.classList.add("no-image"); image.remove(); }, { once: true });
      ui.rmStage.classList.remove("no-image");
      ui.rmStage.append(image);
    } else {
      ui.rmStage.classList.add("no-image");
    }
    (menu.areas || []).forEach((area, i) => {
      const b = area.bounds || {};
      const a = area.action || {};
      const label = actionLabel(a) || `エリア ${i + 1}`;
      ui.rmStage.append(el("button", {
        type: "button", class: "richmenu-area", "data-testid": "richmenu-area", "data-index": i,
        "data-action-type": a.type, "aria-label": label, title: label,
        style: {
          left: pct(b.x, w), top: pct(b.y, h), width: pct(b.width, w), height: pct(b.height, h),
        },
        onclick: () => doAction(a, { source: "richmenu" }),
      }, el("span", { class: "area-label", text: label })));
    });
    const key = data.richMenuId || "";
    const expanded = key in S.rm.expanded ? S.rm.expanded[key] : menu.selected !== false;
    ui.rm.hidden = false;
    setRichMenuExpanded(expanded, menu.chatBarText);
  }

  function pct(v, total) { return `${(100 * (Number(v) || 0)) / total}%`; }

  function setRichMenuExpanded(expanded, chatBarText) {
    if (chatBarText !== undefined) ui.rmBar.dataset.text = chatBarText || "メニュー";
    const text = ui.rmBar.dataset.text || "メニュー";
    ui.rmStage.hidden = !expanded;
    ui.rmBar.setAttribute("aria-expanded", expanded ? "true" : "false");
    ui.rmBar.textContent = `${text} ${expanded ? "▼" : "▲"}`;
    if (S.rm.shown) S.rm.expanded[S.rm.shown] = expanded;
  }

  async function switchRichMenu(a) {
    const alias = a.richMenuAliasId || "";
    let status = "SUCCESS";
    try {
      const data = await api("GET", `api/richmenu/alias/${encodeURIComponent(alias)}`);
      S.rm.overridden = true;
      S.rm.expanded[data.richMenuId] = true;
      renderRichMenu(data);
    } catch (e) {
      status = (e.data && e.data.code) || (e.status === 404 ? "RICHMENU_ALIAS_ID_NOTFOUND" : "FAILED");
      toast(`リッチメニューを切り替えられません (${status}): ${e.message}`, "error");
    }
    return sendEvent({ kind: "postback", data: a.data || "", params: { newRichMenuAliasId: alias, status } }, null);
  }

  // ---------------------------------------------------------------------------- message renderers
  function renderMessage(m, item) {
    try {
      switch (m.type) {
        case "text": return textBubble(m);
        case "textV2": return textV2Bubble(m);
        case "sticker":
          return el("div", { class: "sticker", role: "img", "aria-label": `スタンプ sticker ${m.packageId}/${m.stickerId}` },
            el("span", { class: "sticker-face", text: stickerEmoji(m.packageId, m.stickerId) }),
            el("span", { class: "sticker-id", text: `${m.packageId}/${m.stickerId}` }));
        case "image": {
          const link = el("a", { class: "image-msg", href: safeUrl(m.originalContentUrl, false) || "#", target: "_blank", rel: "noopener noreferrer" },
            img(m.previewImageUrl || m.originalContentUrl, { alt: "画像 image" }));
          return link;
        }
        case "video":
          return el("div", { class: "media-msg" }, mediaEl("video", m));
        case "audio":
          return el("div", { class: "media-msg bubble" }, mediaEl("audio", m),
            m.duration ? el("small", { class: "muted", text: `${Math.round(m.duration / 1000)} 秒` }) : null);
        case "location": return locationCard(m, true);
        case "imagemap": return imagemapMsg(m);
        case "template": return templateMsg(m);
        case "flex": return flexMsg(m);
        case "coupon":
          return el("div", { class: "bubble coupon" }, el("strong", { text: "🎟️ クーポン coupon" }), el("div", { text: m.couponId || "" }));
        default:
          return el("div", { class: "bubble unknown" }, el("small", { class: "muted", text: `未対応のメッセージ (unsupported): ${m.type}` }),
            el("pre", { text: JSON.stringify(m, null, 2) }));
      }
    } catch (e) {
      return el("div", { class: "bubble unknown" }, el("small", { class: "muted", text: `表示できません (render error): ${e.message}` }),
        el("pre", { text: JSON.stringify(m, null, 2) }));
    }
  }

  function textBubble(m) {
    const b = el("div", { class: "bubble bot-bubble", "data-testid": "bot-text" });
    const text = m.text || "";
    const emojis = Array.isArray(m.emojis) ? m.emojis.slice().sort((x, y) => x.index - y.index) : [];
    if (!emojis.length) { b.textContent = text; return b; }
    let pos = 0;
    for (const e of emojis) {
      if (e.index < pos || e.index >= text.length) continue;
      b.append(text.slice(pos, e.index), el("span", { class: "line-emoji", title: `${e.productId}/${e.emojiId}`, text: "☺" }));
      pos = e.index + 1;
    }
    b.append(text.slice(pos));
    return b;
  }

  function textV2Bubble(m) {
    const b = el("div", { class: "bubble bot-bubble", "data-testid": "bot-text" });
    const subs = m.substitution || {};
    const parts = String(m.text || "").split(/(\{[a-zA-Z0-9_]+\})/);
    for (const p of parts) {
      const mm = /^\{([a-zA-Z0-9_]+)\}$/.exec(p);
      if (mm && subs[mm[1]]) {
        const s = subs[mm[1]];
        if (s.type === "mention") b.append(el("span", { class: "mention", text: "@" + (s.mentionee && s.mentionee.type === "all" ? "All" : (S.current ? S.current.displayName : "user")) }));
        else b.append(el("span", { class: "line-emoji", text: "☺" }));
      } else b.append(p);
    }
    return b;
  }

  function mediaEl(tag, m) {
    const node = el(tag, { controls: true, preload: "none" });
    const src = safeUrl(m.originalContentUrl, false);
    if (src) node.src = src;
    if (tag === "video" && safeUrl(m.previewImageUrl, true)) node.poster = m.previewImageUrl;
    return node;
  }

  function locationCard(m, fromBot) {
    const lat = Number(m.latitude), lon = Number(m.longitude);
    const osm = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
    return el("div", { class: "location-card" + (fromBot ? "" : " mine"), "data-testid": "location-card" },
      el("div", { class: "map-thumb", "aria-hidden": "true" }, el("span", { class: "pin", text: "📍" })),
      el("div", { class: "location-text" },
        el("div", { class: "loc-title", text: m.title || "位置情報" }),
        m.address ? el("div", { class: "loc-address", text: m.address }) : null,
        el("div", { class: "loc-coords", text: `${lat.toFixed(5)}, ${lon.toFixed(5)}` }),
        el("a", { href: osm, target: "_blank", rel: "noopener noreferrer", class: "loc-link", text: "地図を開く (open map)" })));
  }

  function imagemapMsg(m) {
    const base = m.baseSize || { width: 1040, height: 1040 };
    const stage = el("div", { class: "imagemap", style: { aspectRatio: `${base.width} / ${base.height}` }, title: m.altText || "" },
      img((m.baseUrl || "") + "/1040", { alt: m.altText || "imagemap", class: "imagemap-img" }));
    (m.actions || []).forEach((a) => {
      const ar = a.area || {};
      stage.append(el("button", {
        type: "button", class: "imagemap-area", "aria-label": a.label || a.text || a.linkUri || "area",
        style: { left: pct(ar.x, base.width), top: pct(ar.y, base.height), width: pct(ar.width, base.width), height: pct(ar.height, base.height) },
        onclick: () => imagemapAction(a),
      }));
    });
    return stage;
  }

  // templates
  function tplActionButton(a, cls) {
    return el("button", {
      type: "button", class: cls || "tpl-action", "data-testid": "template-action", "data-action-type": a && a.type,
      onclick: () => doAction(a, { source: "template" }),
    }, actionLabel(a));
  }

  function clickable(node, action) {
    if (!action) return node;
    node.classList.add("clickable");
    node.setAttribute("role", "button");
    node.setAttribute("tabindex", "0");
    node.setAttribute("aria-label", actionLabel(action));
    node.addEventListener("click", (ev) => {
      if (ev.target.closest("button, a") && ev.target.closest("button, a") !== node) return;
      ev.stopPropagation();
      doAction(action, { source: "default" });
    });
    node.addEventListener("keydown", (ev) => {
      if ((ev.key === "Enter" || ev.key === " ") && ev.target === node) { ev.preventDefault(); doAction(action, {}); }
    });
    return node;
  }

  function tplCard(col, opts) {
    const ratio = opts.ratio === "square" ? "1 / 1" : "1.51 / 1";
    const card = el("div", { class: "tpl-card" + (opts.inCarousel ? " in-carousel" : ""), "data-testid": "template-card" });
    const top = el("div", { class: "tpl-top" });
    if (col.thumbnailImageUrl) {
      const thumb = el("div", { class: "tpl-thumb", style: { aspectRatio: ratio, backgroundColor: col.imageBackgroundColor || "#fff" } },
        img(col.thumbnailImageUrl, { alt: "", class: "tpl-thumb-img", style: { objectFit: opts.size === "contain" ? "contain" : "cover" } }));
      top.append(thumb);
    }
    const body = el("div", { class: "tpl-body" },
      col.title ? el("div", { class: "tpl-title", text: col.title }) : null,
      el("div", { class: "tpl-text", text: col.text || "" }));
    top.append(body);
    card.append(clickable(top, col.defaultAction));
    card.append(el("div", { class: "tpl-actions" }, (col.actions || []).map((a) => tplActionButton(a))));
    return card;
  }

  function templateMsg(m) {
    const t = m.template || {};
    const wrap = el("div", { class: "template", "data-testid": "template", "data-template-type": t.type, title: m.altText || "" });
    if (t.type === "buttons") {
      wrap.append(tplCard(t, { ratio: t.imageAspectRatio, size: t.imageSize }));
    } else if (t.type === "confirm") {
      wrap.append(el("div", { class: "tpl-card confirm", "data-testid": "template-card" },
        el("div", { class: "tpl-body" }, el("div", { class: "tpl-text", text: t.text || "" })),
        el("div", { class: "tpl-actions row-actions" }, (t.actions || []).map((a) => tplActionButton(a)))));
    } else if (t.type === "carousel") {
      wrap.classList.add("carousel");
      for (const col of t.columns || []) wrap.append(tplCard(col, { ratio: t.imageAspectRatio, size: t.imageSize, inCarousel: true }));
    } else if (t.type === "image_carousel") {
      wrap.classList.add("carousel");
      for (const col of t.columns || []) {
        const a = col.action || {};
        wrap.append(clickable(el("div", { class: "img-col" }, img(col.imageUrl, { alt: "", class: "img-col-img" }),
          a.label ? el("span", { class: "img-col-label", text: a.label }) : null), a));
      }
    } else {
      wrap.append(el("div", { class: "bubble", text: m.altText || "template" }));
    }
    return wrap;
  }

  // ---------------------------------------------------------------------------- Flex
  const FX = {
    text: { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 },
    space: { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 },
    image: { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 220, full: "100%" },
    radius: { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 },
    border: { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 },
    bubble: { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 386 },
  };

  function fxLen(v, table) {
    if (v === undefined || v === null || v === "") return null;
    if (table && Object.prototype.hasOwnProperty.call(table, v)) {
      const x = table[v];
      return typeof x === "number" ? `${x}px` : x;
    }
    if (typeof v === "number") return `${v}px`;
    if (/^-?\d+(\.\d+)?(px|%)$/.test(String(v))) return String(v);
    return null;
  }

  function flexMsg(m) {
    const c = m.contents || {};
    const wrap = el("div", { class: "flex-msg", "data-testid": "flex", title: m.altText || "" });
    if (c.type === "carousel") {
      wrap.classList.add("fx-carousel");
      for (const b of c.contents || []) wrap.append(flexBubble(b));
    } else {
      wrap.append(flexBubble(c));
    }
    return wrap;
  }

  function flexBubble(b) {
    const size = FX.bubble[b.size] ? b.size : "mega";
    const bubble = el("div", { class: `fx-bubble fx-size-${size}`, "data-testid": "flex-bubble", dir: b.direction === "rtl" ? "rtl" : null,
      style: { width: `${FX.bubble[size]}px` } });
    const styles = b.styles || {};
    let first = true;
    for (const part of ["header", "hero", "body", "footer"]) {
      const comp = b[part];
      if (!comp) continue;
      const st = styles[part] || {};
      const block = el("div", { class: `fx-block fx-${part}` });
      if (st.backgroundColor) block.style.backgroundColor = st.backgroundColor;
      if (st.separator && !first) block.style.borderTop = `1px solid ${st.separatorColor || "#e0e0e0"}`;
      const node = flexComponent(comp, "vertical", { part });
      if (comp.type === "box") node.classList.add("fx-block-box");
      block.append(node);
      bubble.append(block);
      first = false;
    }
    if (!bubble.firstChild) bubble.append(el("div", { class: "fx-block fx-body" }));
    return clickable(bubble, b.action);
  }

  function applyChildFlex(node, c, parentLayout) {
    const dflt = parentLayout === "vertical" ? 0 : 1;
    const f = typeof c.flex === "number" ? c.flex : (c.type === "filler" ? 1 : dflt);
    if (f <= 0) node.style.flex = "0 0 auto";
    else node.style.flex = parentLayout === "vertical" ? `${f} 0 auto` : `${f} ${f} 0px`;
  }

  function applyOffsets(node, c) {
    if (c.position === "absolute") node.style.position = "absolute";
    const map = { offsetTop: "top", offsetBottom: "bottom", offsetStart: "insetInlineStart", offsetEnd: "insetInlineEnd" };
    for (const [k, css] of Object.entries(map)) {
      const v = fxLen(c[k], FX.space);
      if (v !== null) node.style[css] = v;
    }
  }

  function applyGravity(node, c) {
    if (c.gravity) node.style.alignSelf = { top: "flex-start", bottom: "flex-end", center: "center" }[c.gravity] || "";
  }

  function flexComponent(c, parentLayout, ctx) {
    let node;
    switch (c.type) {
      case "box": node = flexBox(c, ctx); break;
      case "text": node = flexText(c); break;
      case "button": node = flexButton(c); break;
      case "image": node = flexImage(c); break;
      case "icon": node = flexIcon(c); break;
      case "separator":
        node = el("div", { class: "fx-separator", role: "separator" });
        node.style[parentLayout === "vertical" ? "borderTopColor" : "borderLeftColor"] = c.color || "";
        node.classList.add(parentLayout === "vertical" ? "h" : "v");
        break;
      case "filler": node = el("div", { class: "fx-filler" }); break;
      case "spacer": node = el("div", { class: "fx-spacer", style: { flex: `0 0 ${fxLen(c.size, FX.space) || "8px"}` } }); return node;
      case "video": node = flexVideo(c); break;
      default:
        node = el("div", { class: "fx-unknown", text: `[${c.type}]` });
    }
    if (c.type !== "spacer") applyChildFlex(node, c, parentLayout);
    applyOffsets(node, c);
    return node;
  }

  function flexBox(c, ctx) {
    const layout = ["vertical", "horizontal", "baseline"].includes(c.layout) ? c.layout : "vertical";
    const node = el("div", { class: `fx-box fx-${layout}`, "data-layout": layout });
    const st = node.style;
    if (c.backgroundColor) st.backgroundColor = c.backgroundColor;
    if (c.borderColor) st.borderColor = c.borderColor;
    const bw = fxLen(c.borderWidth, FX.border);
    if (bw !== null) { st.borderWidth = bw; st.borderStyle = "solid"; if (!c.borderColor) st.borderColor = "#000"; }
    const cr = fxLen(c.cornerRadius, FX.radius);
    if (cr !== null) { st.borderRadius = cr; st.overflow = "hidden"; }
    for (const [k, css] of [["width", "width"], ["maxWidth", "maxWidth"], ["height", "height"], ["maxHeight", "maxHeight"]]) {
      const v = fxLen(c[k]);
      if (v !== null) st[css] = v;
    }
    const pa = fxLen(c.paddingAll, FX.space);
    if (pa !== null) st.padding = pa;
    for (const [k, css] of [["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"], ["paddingStart", "paddingInlineStart"], ["paddingEnd", "paddingInlineEnd"]]) {
      const v = fxLen(c[k], FX.space);
      if (v !== null) st[css] = v;
    }
    if (c.justifyContent) st.justifyContent = c.justifyContent;
    if (c.alignItems) st.alignItems = c.alignItems;
    if (c.background && c.background.type === "linearGradient") {
      const g = c.background;
      const stops = [g.startColor || "#fff"];
      if (g.centerColor) stops.push(`${g.centerColor} ${g.centerPosition || "50%"}`);
      stops.push(g.endColor || "#000");
      st.backgroundImage = `linear-gradient(${g.angle || "0deg"}, ${stops.join(", ")})`;
    }
    const spacing = fxLen(c.spacing, FX.space);
    const before = layout === "vertical" ? "marginTop" : "marginInlineStart";
    (c.contents || []).forEach((child, i) => {
      const cn = flexComponent(child, layout, ctx);
      const m = fxLen(child.margin, FX.space);
      if (child.position !== "absolute") {
        if (m !== null && i > 0) cn.style[before] = m;
        else if (spacing !== null && i > 0) cn.style[before] = spacing;
      }
      node.append(cn);
    });
    return clickable(node, c.action);
  }

  function styleText(node, c) {
    const size = fxLen(c.size, FX.text);
    if (size) node.style.fontSize = size;
    if (c.color) node.style.color = c.color;
    if (c.weight === "bold") node.style.fontWeight = "700";
    if (c.style === "italic") node.style.fontStyle = "italic";
    if (c.decoration === "underline" || c.decoration === "line-through") node.style.textDecoration = c.decoration;
  }

  function flexText(c) {
    const node = el("div", { class: "fx-text" + (c.wrap ? " wrap" : "") });
    if (Array.isArray(c.contents) && c.contents.length) {
      for (const s of c.contents) {
        const span = el("span", { class: "fx-span", text: s.text || "" });
        styleText(span, s);
        node.append(span);
      }
    } else {
      node.textContent = c.text || "";
    }
    styleText(node, c);
    if (c.align) node.style.textAlign = c.align;
    applyGravity(node, c);
    if (c.lineSpacing) { const ls = fxLen(c.lineSpacing); if (ls) node.style.lineHeight = `calc(1em + ${ls})`; }
    if (c.wrap && c.maxLines > 0) { node.classList.add("clamp"); node.style.webkitLineClamp = String(c.maxLines); }
    return clickable(node, c.action);
  }

  function flexButton(c) {
    const style = ["primary", "secondary", "link"].includes(c.style) ? c.style : "link";
    const node = el("button", {
      type: "button", class: `fx-button fx-button-${style} fx-h-${c.height === "sm" ? "sm" : "md"}`,
      "data-testid": "flex-button", "data-action-type": c.action && c.action.type,
      onclick: (ev) => { ev.stopPropagation(); doAction(c.action, { source: "flex" }); },
    }, actionLabel(c.action));
    if (c.color) {
      if (style === "link") node.style.color = c.color;
      else node.style.backgroundColor = c.color;
    }
    applyGravity(node, c);
    return node;
  }

  function aspect(v, dflt) {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v || "");
    return m ? `${m[1]} / ${m[2]}` : dflt;
  }

  function flexImage(c) {
    const wrap = el("div", { class: "fx-image-wrap" });
    wrap.style.justifyContent = { start: "flex-start", end: "flex-end", center: "center" }[c.align] || "center";
    const image = img(c.url, { class: "fx-image", alt: "" });
    const w = fxLen(c.size || "md", FX.image) || "100px";
    image.style.width = w;
    image.style.maxWidth = "100%";
    image.style.aspectRatio = aspect(c.aspectRatio, "1 / 1");
    image.style.objectFit = c.aspectMode === "cover" ? "cover" : "contain";
    if (c.backgroundColor) image.style.backgroundColor = c.backgroundColor;
    wrap.append(image);
    applyGravity(wrap, c);
    return clickable(wrap, c.action);
  }

  function flexIcon(c) {
    const size = fxLen(c.size || "md", FX.text) || "16px";
    const node = img(c.url, { class: "fx-icon", alt: "" });
    node.style.height = size;
    node.style.aspectRatio = aspect(c.aspectRatio, "1 / 1");
    node.style.width = "auto";
    return node;
  }

  function flexVideo(c) {
    const node = el("div", { class: "fx-video" });
    const v = el("video", { controls: true, preload: "none", style: { aspectRatio: aspect(c.aspectRatio, "16 / 9"), width: "100%" } });
    if (safeUrl(c.url, false)) v.src = c.url;
    if (safeUrl(c.previewUrl, true)) v.poster = c.previewUrl;
    node.append(v);
    return clickable(node, c.action);
  }

  // ---------------------------------------------------------------------------- wiring
  function wire() {
    ui.addForm.addEventListener("submit", addResident);
    ui.composer.addEventListener("submit", onComposerSubmit);
    ui.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
        ev.preventDefault();
        ui.composer.requestSubmit();
      }
    });
    ui.input.addEventListener("input", autoGrow);
    ui.log.addEventListener("scroll", () => {
      S.atEnd = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 60;
    }, { passive: true });
    ui.plus.addEventListener("click", () => toggleExtras());
    ui.openLoc.addEventListener("click", () => { ui.locForm.hidden ? openLocationForm() : (ui.locForm.hidden = true); });
    ui.openSticker.addEventListener("click", () => { ui.locForm.hidden = true; ui.stickerPanel.hidden = !ui.stickerPanel.hidden; });
    ui.locForm.addEventListener("submit", sendLocationForm);
    ui.locCancel.addEventListener("click", () => toggleExtras(false));
    for (const b of document.querySelectorAll(".preset")) {
      b.addEventListener("click", () => {
        ui.lat.value = b.dataset.lat; ui.lon.value = b.dataset.lon;
        ui.locTitle.value = b.dataset.title; ui.locAddress.value = b.dataset.address;
      });
    }
    ui.imageInput.addEventListener("change", onImagePicked);
    ui.followBtn.addEventListener("click", () => sendFollow(true));
    ui.blockBtn.addEventListener("click", () => sendFollow(false));
    ui.rmBar.addEventListener("click", () => setRichMenuExpanded(ui.rmStage.hidden));
    ui.dtForm.addEventListener("submit", submitDatetime);
    ui.dtCancel.addEventListener("click", closeDatetime);
    ui.debug.checked = S.debug;
    ui.debug.addEventListener("change", () => {
      S.debug = ui.debug.checked;
      localStorage.setItem("citybot-sim:debug", S.debug ? "1" : "0");
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && !ui.extras.hidden) toggleExtras(false);
    });
    buildStickers();
  }

  wire();
  renderHeader();
  loadResidents();
  setInterval(poll, POLL_MS);
  setInterval(() => {
    if (document.hidden) return;
    loadResidents();
    refreshRichMenu(false);
  }, REFRESH_MS);

  // exposed for debugging in the console and for browser tests
  window.citybotSimulator = { state: S, doAction, renderMessage };
})();
