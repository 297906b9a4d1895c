// The emulator's web chat: act as simulated users through the control API, read the bot.
// Bot texts arrive as plain text plus Telegram entities (the emulator parsed the bot's HTML the
// way Telegram does); they are rebuilt here as DOM nodes, never through innerHTML.
"use strict";

const $ = (selector) => document.querySelector(selector);

const page = {
  config: null,
  users: new Map(), // id -> {id, name, role, language_code, phone}
  active: null, // the user id whose chat is shown
  seq: 0, // the emulator's change counter the last poll saw
  toastSeq: null, // callback answers up to here are already shown
  rendered: new Map(), // message id -> element, for the active chat
  counts: {}, // chat id -> bot messages, from the last poll
  seen: {}, // chat id -> bot messages the person has seen
  poll: null, // AbortController of the poll in flight
  clockOffset: 0, // emulator time minus this browser's time, in ms
  zone: "Asia/Shanghai",
};

// --- talking to the emulator -------------------------------------------------------------

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  let payload = {};
  try {
    payload = await response.json();
  } catch (_) {
    payload = { ok: false, error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok || payload.ok === false) {
    throw new Error(payload.error || payload.description || `${response.status}`);
  }
  return payload;
}

function profile() {
  const user = page.users.get(page.active);
  return { first_name: user.name, language_code: user.language_code };
}

async function act(kind, body) {
  try {
    await call("POST", `/control/users/${page.active}/${kind}`, { ...profile(), ...body });
  } catch (error) {
    toast(`The emulator refused: ${error.message}`, true);
  }
}

const sendText = (text) => act("send", { text });
const press = (messageId, data) => act("press", { message_id: messageId, data });
const shareContact = () => act("contact", { phone_number: page.users.get(page.active).phone });

// --- rendering Telegram's formatted text safely ------------------------------------------

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(String(url || "")) ? String(url) : null;
}

function entityElement(entity) {
  const tags = {
    bold: "b",
    italic: "i",
    underline: "u",
    strikethrough: "s",
    code: "code",
    pre: "pre",
    blockquote: "blockquote",
    expandable_blockquote: "blockquote",
  };
  if (entity.type === "text_link" || entity.type === "url") {
    const href = entity.type === "url" ? null : safeUrl(entity.url);
    const link = document.createElement("a");
    if (href) link.href = href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    return link;
  }
  if (entity.type === "spoiler") {
    const span = document.createElement("span");
    span.className = "spoiler";
    span.title = "spoiler: click to show";
    span.addEventListener("click", () => span.classList.add("shown"));
    return span;
  }
  const element = document.createElement(tags[entity.type] || "span");
  element.className = `entity-${entity.type}`;
  return element;
}

// Offsets and lengths are in UTF-16 code units, which is what JavaScript strings index.
function formatted(text, entities) {
  const root = document.createElement("div");
  root.className = "text";
  const list = (entities || [])
    .filter((e) => e.length > 0)
    .slice()
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const build = (parent, start, end, items) => {
    let position = start;
    let i = 0;
    while (i < items.length) {
      const entity = items[i];
      const from = Math.max(entity.offset, position);
      const to = Math.min(entity.offset + entity.length, end);
      const inner = [];
      let j = i + 1;
      while (j < items.length && items[j].offset < to) inner.push(items[j++]);
      if (from > position) parent.append(text.slice(position, from));
      const element = entityElement(entity);
      build(element, from, to, inner);
      if (entity.type === "url" && safeUrl(element.textContent)) {
        element.href = element.textContent;
      }
      parent.append(element);
      position = Math.max(position, to);
      i = j;
    }
    if (position < end) parent.append(text.slice(position, end));
  };
  build(root, 0, text.length, list);
  return root;
}

// --- messages ----------------------------------------------------------------------------

function clockText(seconds, withDate) {
  const options = { timeZone: page.zone, hour: "2-digit", minute: "2-digit", hour12: false };
  if (withDate) Object.assign(options, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
  try {
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(seconds * 1000));
  } catch (_) {
    return new Date(seconds * 1000).toISOString();
  }
}

function messageElement(m) {
  const box = document.createElement("div");
  box.className = `msg ${m.from_bot ? "bot" : "user"}`;
  box.dataset.id = m.message_id;
  box.dataset.edits = m.edit_count;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  box.append(bubble);

  if (m.photo && m.photo_sizes && m.photo_sizes.length) {
    const largest = m.photo_sizes[m.photo_sizes.length - 1];
    const img = document.createElement("img");
    img.className = "photo";
    img.alt = "photo";
    img.src = `/control/files/${encodeURIComponent(largest.file_id)}`;
    bubble.append(img);
  }
  if (m.document) {
    const link = document.createElement("a");
    link.className = "document";
    link.href = `/control/files/${encodeURIComponent(m.document.file_id)}`;
    link.download = m.document.file_name || "document";
    link.textContent = `📎 ${m.document.file_name || "document"}`;
    bubble.append(link);
  }
  if (m.contact) {
    const contact = document.createElement("div");
    contact.className = "contact";
    contact.textContent = `📱 ${m.contact.phone_number}`;
    bubble.append(contact);
  }
  for (const kind of ["sticker", "voice", "location"]) {
    if (m[kind]) {
      const other = document.createElement("div");
      other.className = "other";
      other.textContent = `(${kind})`;
      bubble.append(other);
    }
  }
  if (m.text != null) bubble.append(formatted(m.text, m.entities));
  if (m.caption != null) bubble.append(formatted(m.caption, m.caption_entities));

  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = clockText(m.edit_date || m.date, false) + (m.edited ? " · edited" : "");
  bubble.append(meta);

  const rows = (m.reply_markup && m.reply_markup.inline_keyboard) || [];
  if (rows.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "inline-keyboard";
    for (const row of rows) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) line.append(inlineButton(m, button));
      keyboard.append(line);
    }
    box.append(keyboard);
  }
  return box;
}

function inlineButton(m, button) {
  const url = safeUrl(button.url);
  if (url) {
    const link = document.createElement("a");
    link.className = "button link";
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = `${button.text} ↗`;
    return link;
  }
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = button.text;
  if (button.callback_data != null) {
    element.addEventListener("click", () => press(m.message_id, button.callback_data));
  } else {
    element.disabled = true;
  }
  return element;
}

function showMessages(messages) {
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  let appended = false;
  const present = new Set();
  for (const m of messages) {
    present.add(m.message_id);
    const old = page.rendered.get(m.message_id);
    if (m.deleted) {
      if (old) old.remove();
      page.rendered.delete(m.message_id);
      continue;
    }
    if (old && old.dataset.edits === String(m.edit_count)) continue;
    const element = messageElement(m);
    if (old) {
      old.replaceWith(element); // an edit: in place
    } else {
      list.append(element);
      appended = true;
    }
    page.rendered.set(m.message_id, element);
  }
  for (const [id, element] of page.rendered) {
    if (!present.has(id)) {
      element.remove();
      page.rendered.delete(id);
    }
  }
  if (appended && (atBottom || messages.length)) list.scrollTop = list.scrollHeight;
  showReplyKeyboard(messages);
}

// Telegram keeps a reply keyboard up until a message removes or replaces it; a one-time
// keyboard folds away once the person answered.
function showReplyKeyboard(messages) {
  let current = null;
  let answered = false;
  for (const m of messages) {
    if (m.deleted) continue;
    if (!m.from_bot) {
      answered = true;
      continue;
    }
    const markup = m.reply_markup || {};
    if (markup.keyboard) {
      current = markup;
      answered = false;
    } else if (markup.remove_keyboard) {
      current = null;
    }
  }
  const box = $("#keyboard");
  box.replaceChildren();
  if (!current || (current.one_time_keyboard && answered)) return;
  for (const row of current.keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const key of row) {
      const label = typeof key === "string" ? key : key.text;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      if (key.request_contact) {
        button.className = "share-contact";
        button.title = `shares ${page.users.get(page.active).phone}`;
        button.addEventListener("click", shareContact);
      } else {
        button.addEventListener("click", () => sendText(label));
      }
      line.append(button);
    }
    box.append(line);
  }
  if (current.input_field_placeholder) $("#text").placeholder = current.input_field_placeholder;
}

let toastTimer = null;
function toast(text, alert) {
  const box = $("#toast");
  box.textContent = text;
  box.className = alert ? "alert" : "";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), alert ? 6000 : 3000);
}

// --- users -------------------------------------------------------------------------------

function showUsers() {
  const nav = $("#users");
  nav.replaceChildren();
  for (const user of page.users.values()) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "user" + (user.id === page.active ? " active" : "");
    button.dataset.user = user.id;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = user.name;
    const role = document.createElement("span");
    role.className = "role";
    role.textContent = `${user.role} · #${user.id}`;
    button.append(name, role);
    const unread = (page.counts[user.id] || 0) - (page.seen[user.id] || 0);
    if (user.id !== page.active && unread > 0) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = unread;
      button.append(badge);
    }
    button.addEventListener("click", () => switchTo(user.id));
    nav.append(button);
  }
}

// On a phone the people list is a drawer over the chat: open it with ☰, a choice closes it.
function drawer(open) {
  document.body.classList.toggle("drawer-open", open);
  $("#people").setAttribute("aria-expanded", String(open));
}

function switchTo(userId) {
  if (!page.users.has(userId)) return;
  page.active = userId;
  const user = page.users.get(userId);
  $("#chat-name").textContent = user.name;
  $("#chat-role").textContent = `${user.role} · user ${user.id}`;
  $("#messages").replaceChildren();
  $("#keyboard").replaceChildren();
  $("#text").placeholder = "Write a message, or /start";
  page.rendered.clear();
  page.seq = 0;
  page.toastSeq = null;
  history.replaceState(null, "", `#user=${userId}`);
  drawer(false);
  showUsers();
  if (page.poll) page.poll.abort();
}

// --- the poll loop -----------------------------------------------------------------------

async function pollLoop() {
  for (;;) {
    const chat = page.active;
    const controller = new AbortController();
    page.poll = controller;
    const params = new URLSearchParams({
      chat,
      since: page.seq,
      toast_after: page.toastSeq ?? 0,
      timeout: 25,
    });
    try {
      const response = await fetch(`/web/api/poll?${params}`, { signal: controller.signal });
      const state = await response.json();
      if (chat !== page.active) continue; // switched meanwhile
      page.seq = state.seq;
      showMessages(state.messages);
      if (page.toastSeq !== null) {
        for (const answer of state.toasts) toast(answer.text, answer.show_alert);
      }
      page.toastSeq = state.toast_seq;
      page.counts = state.counts;
      page.seen[chat] = state.counts[chat] || 0;
      for (const [id, name] of Object.entries(state.names)) {
        if (!page.users.has(Number(id))) {
          page.users.set(Number(id), {
            id: Number(id), name, role: "user", language_code: "en",
            phone: `86139${String(id).padStart(8, "0").slice(-8)}`,
          });
        }
      }
      showUsers();
      page.clockOffset = state.now * 1000 - Date.now();
      tick();
    } catch (error) {
      if (error.name !== "AbortError") await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function tick() {
  const now = (Date.now() + page.clockOffset) / 1000;
  const element = $("#clock-now");
  element.dataset.now = Math.floor(now);
  element.textContent = `${clockText(now, true)} (${page.zone})`;
}

// --- start -------------------------------------------------------------------------------

async function start() {
  const config = await call("GET", "/web/api/config");
  page.config = config;
  document.title = config.title;
  for (const user of config.users) page.users.set(user.id, user);
  if (config.clock) {
    page.zone = config.clock.zone;
    $("#clock").hidden = false;
    $("#clock-checkin").title = `Move to the next check-in: ${config.clock.checkin_times.join(", ")} (${config.clock.zone})`;
    for (const button of document.querySelectorAll("#clock button")) {
      button.addEventListener("click", async () => {
        try {
          const moved = await call("POST", "/web/api/clock", { step: button.dataset.step });
          page.clockOffset = moved.now * 1000 - Date.now();
          tick();
        } catch (error) {
          toast(`The clock did not move: ${error.message}`, true);
        }
      });
    }
    setInterval(tick, 1000);
  }
  $("#people").addEventListener("click", () =>
    drawer(!document.body.classList.contains("drawer-open")),
  );
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    sendText(text);
  });
  const wanted = Number((location.hash.match(/user=(\d+)/) || [])[1]);
  switchTo(page.users.has(wanted) ? wanted : config.users[0].id);
  pollLoop();
}

document.addEventListener("DOMContentLoaded", start);
