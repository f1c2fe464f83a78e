/* Focus Sessions: the programme as a Telegram Mini App.
 * Plain JavaScript, no build step. Every text from content or people is set with
 * textContent (never as HTML). Works without telegram-web-app.js: read-only then. */
(function () {
  "use strict";

  var tg = window.Telegram && window.Telegram.WebApp ? window.Telegram.WebApp : null;
  var initData = tg && typeof tg.initData === "string" ? tg.initData : "";
  var THEME = {
    bg_color: "--bg", text_color: "--text", hint_color: "--hint", link_color: "--link",
    button_color: "--button", button_text_color: "--button-text",
    secondary_bg_color: "--secondary-bg", section_bg_color: "--section-bg",
    accent_text_color: "--accent", section_separator_color: "--separator"
  };
  var COLOR = /^#[0-9a-fA-F]{3,8}$/;
  var state = {
    data: null, saved: new Set(), filter: "all", authenticated: false, tab: "programme"
  };

  function $(id) { return document.getElementById(id); }

  /* An element with text (never HTML) and attributes. */
  function el(tag, className, text, attrs) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function s(key) { return (state.data && state.data.strings[key]) || ""; }

  function askedLanguage() {
    var user = tg && tg.initDataUnsafe && tg.initDataUnsafe.user;
    return (user && user.language_code) || navigator.language || "en";
  }

  function applyTheme() {
    var root = document.documentElement;
    var params = (tg && tg.themeParams) || {};
    Object.keys(THEME).forEach(function (key) {
      var value = params[key];
      if (typeof value === "string" && COLOR.test(value)) root.style.setProperty(THEME[key], value);
    });
    if (tg && (tg.colorScheme === "dark" || tg.colorScheme === "light")) {
      root.setAttribute("data-scheme", tg.colorScheme);
    }
  }

  function api(path, options) {
    options = options || {};
    var headers = options.headers || {};
    if (options.auth && initData) headers.Authorization = "tma " + initData;
    return fetch(path, { method: options.method || "GET", headers: headers, body: options.body,
      credentials: "omit", cache: "no-store" });
  }

  function toast(text) {
    var node = $("toast");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 4000);
  }

  /* --- the timeline --------------------------------------------------------------------- */

  function visible(session) {
    if (state.filter === "saved") return state.saved.has(session.id);
    return state.filter === "all" || session.kind === state.filter;
  }

  function saveButton(session) {
    var saved = state.saved.has(session.id);
    var button = el("button", "save", saved ? "★" : "☆", {
      type: "button", "aria-pressed": saved ? "true" : "false",
      "aria-label": saved ? s("unsave") : s("save"), title: saved ? s("unsave") : s("save"),
      "data-session": session.id
    });
    button.disabled = !state.authenticated;
    button.addEventListener("click", function () { toggleSaved(session.id, button); });
    return button;
  }

  function detailLine(label, value) {
    var p = el("p", "detail");
    p.appendChild(el("span", "detail-label", label));
    p.appendChild(document.createTextNode(" " + value));
    return p;
  }

  function sessionDetails(session) {
    var box = el("div", "session-details", null, { id: "d-" + session.id });
    box.hidden = true;
    if (session.room) box.appendChild(detailLine(s("room") + ":", session.room));
    if (session.host) {
      var host = el("button", "link-button", s("host") + " " + session.host.name, { type: "button" });
      host.addEventListener("click", function () { showOrganization(session.host.id); });
      box.appendChild(host);
    }
    if (session.shows_speakers) {
      box.appendChild(session.speakers.length
        ? detailLine(s("speakers") + ":", session.speakers.join(", "))
        : el("p", "detail", s("speakers_tba")));
    }
    if (session.description) box.appendChild(el("p", "description", session.description));
    if (session.topics.length) {
      var topics = el("ul", "topics", null, { "aria-label": s("topics") });
      session.topics.forEach(function (topic) { topics.appendChild(el("li", "topic", topic)); });
      box.appendChild(el("p", "detail-label", s("topics")));
      box.appendChild(topics);
    }
    if (session.open) box.appendChild(el("p", "detail", s("open")));
    if (session.ask) box.appendChild(askButton(session.ask));
    var calendar = el("a", "link-button", s("calendar"), { href: session.calendar, download: "" });
    box.appendChild(calendar);
    return box;
  }

  /* "❓ Ask the panel": the session's live questions, in the chat (/start ask-<session>). */
  function askButton(url) {
    var button = el("button", "link-button ask", s("ask"), { type: "button" });
    button.addEventListener("click", function () { openTelegramLink(url); });
    return button;
  }

  function openTelegramLink(url) {
    if (!/^https:\/\/t\.me\//.test(url)) return;
    if (tg && typeof tg.openTelegramLink === "function") tg.openTelegramLink(url);
    else window.open(url, "_blank", "noopener");
  }

  function sessionCard(session) {
    var card = el("article", "session kind-" + session.kind, null, {
      id: "s-" + session.id, "data-kind": session.kind, "data-session": session.id
    });
    var head = el("div", "session-head");
    var open = el("button", "session-open", null, {
      type: "button", "aria-expanded": "false", "aria-controls": "d-" + session.id
    });
    open.appendChild(el("span", "badge", session.kind_label));
    open.appendChild(el("span", "title", session.title));
    open.appendChild(el("span", "when", "🕘 " + session.when));
    head.appendChild(open);
    head.appendChild(saveButton(session));
    card.appendChild(head);
    var details = sessionDetails(session);
    card.appendChild(details);
    toggles(open, details);
    return card;
  }

  // A card's head opens and closes its details (and says so to screen readers).
  function toggles(open, details) {
    open.addEventListener("click", function () {
      var expanded = details.hidden;
      details.hidden = !expanded;
      open.setAttribute("aria-expanded", expanded ? "true" : "false");
    });
  }

  function renderTimeline() {
    var list = $("timeline");
    list.textContent = "";
    var slots = [];
    state.data.sessions.forEach(function (session) {
      if (!visible(session)) return;
      var last = slots[slots.length - 1];
      if (last && last.start === session.start) last.sessions.push(session);
      else slots.push({ start: session.start, sessions: [session] });
    });
    slots.forEach(function (slot) {
      var item = el("li", "slot");
      item.appendChild(el("div", "slot-time", slot.start));
      var group = el("div", "slot-sessions");
      if (slot.sessions.length > 1) group.appendChild(el("p", "parallel", s("parallel")));
      slot.sessions.forEach(function (session) { group.appendChild(sessionCard(session)); });
      item.appendChild(group);
      list.appendChild(item);
    });
    list.setAttribute("aria-busy", "false");
    $("saved-empty").hidden = !(state.filter === "saved" && slots.length === 0);
  }

  function renderFilters() {
    var box = $("filters");
    box.textContent = "";
    box.setAttribute("aria-label", s("filters"));
    var kinds = [];
    state.data.sessions.forEach(function (x) { if (kinds.indexOf(x.kind) < 0) kinds.push(x.kind); });
    var options = [["all", s("filter_all")]].concat(kinds.map(function (k) {
      return [k, state.data.kinds[k]];
    }));
    if (state.authenticated) options.push(["saved", s("filter_saved")]);
    options.forEach(function (option) {
      var chip = el("button", "chip" + (option[0] === "all" || option[0] === "saved" ? "" :
        " kind-" + option[0]), option[1], {
        type: "button", "data-filter": option[0],
        "aria-pressed": state.filter === option[0] ? "true" : "false"
      });
      chip.addEventListener("click", function () { setFilter(option[0]); });
      box.appendChild(chip);
    });
  }

  function setFilter(filter) {
    state.filter = filter;
    renderFilters();
    renderTimeline();
  }

  async function toggleSaved(id, button) {
    var wanted = !state.saved.has(id);
    button.disabled = true;
    try {
      var response = await api("api/saved/" + encodeURIComponent(id), {
        method: "PUT", auth: true, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ saved: wanted })
      });
      if (response.status === 401) { readOnly(); return; }
      if (!response.ok) throw new Error(String(response.status));
      var result = await response.json();
      if (result.saved) state.saved.add(id); else state.saved.delete(id);
      if (tg && tg.HapticFeedback) tg.HapticFeedback.selectionChanged();
      updateSaveButtons(id);
      if (state.filter === "saved") renderTimeline();
    } catch (error) {
      toast(s("save_failed"));
    } finally {
      button.disabled = !state.authenticated;
    }
  }

  function updateSaveButtons(id) {
    var saved = state.saved.has(id);
    document.querySelectorAll("button.save").forEach(function (button) {
      if (button.getAttribute("data-session") !== id) return;
      button.textContent = saved ? "★" : "☆";
      button.setAttribute("aria-pressed", saved ? "true" : "false");
      button.setAttribute("aria-label", saved ? s("unsave") : s("save"));
      button.title = saved ? s("unsave") : s("save");
    });
  }

  /* --- organizations -------------------------------------------------------------------- */

  function openLink(url, event) {
    if (tg && typeof tg.openLink === "function") { event.preventDefault(); tg.openLink(url); }
  }

  function organizationCard(org) {
    var card = el("article", "org", null, { id: "o-" + org.id, "data-org": org.id });
    var open = el("button", "session-open", null, {
      type: "button", "aria-expanded": "false", "aria-controls": "od-" + org.id
    });
    open.appendChild(el("span", "badge", org.role_label));
    open.appendChild(el("span", "title", org.name));
    var facts = org.summary || org.description || s("no_description");
    open.appendChild(el("span", "summary", facts));
    card.appendChild(open);
    var details = el("div", "session-details", null, { id: "od-" + org.id });
    details.hidden = true;
    if (org.summary && org.description) details.appendChild(el("p", "description", org.description));
    if (org.sessions.length) {
      details.appendChild(el("p", "detail-label", s("in_programme")));
      org.sessions.forEach(function (id) {
        var session = state.data.sessions.find(function (x) { return x.id === id; });
        if (!session) return;
        var go = el("button", "link-button", session.title + " · 🕘 " + session.when, { type: "button" });
        go.addEventListener("click", function () { showSession(id); });
        details.appendChild(go);
      });
    }
    if (org.url && /^https?:\/\//.test(org.url)) {
      var link = el("a", "link-button", s("more_info"), {
        href: org.url, target: "_blank", rel: "noopener noreferrer"
      });
      link.addEventListener("click", function (event) { openLink(org.url, event); });
      details.appendChild(link);
    }
    card.appendChild(details);
    toggles(open, details);
    return card;
  }

  function renderOrganizations() {
    var box = $("organizations");
    box.textContent = "";
    [["partner", s("partners")], ["side_event_organizer", s("organizers")]].forEach(function (role) {
      var orgs = state.data.organizations.filter(function (o) { return o.role === role[0]; });
      if (!orgs.length) return;
      box.appendChild(el("h2", "section-title", role[1], { id: "role-" + role[0] }));
      orgs.forEach(function (org) { box.appendChild(organizationCard(org)); });
    });
  }

  /* --- tabs, navigation ----------------------------------------------------------------- */

  function setTab(tab) {
    state.tab = tab;
    $("programme").hidden = tab !== "programme";
    $("organizations").hidden = tab !== "organizations";
    $("tab-programme").setAttribute("aria-selected", tab === "programme" ? "true" : "false");
    $("tab-organizations").setAttribute("aria-selected", tab === "organizations" ? "true" : "false");
  }

  function expand(card) {
    var open = card.querySelector(".session-open");
    var details = card.querySelector(".session-details");
    details.hidden = false;
    open.setAttribute("aria-expanded", "true");
    card.scrollIntoView({ block: "start" });
    open.focus({ preventScroll: true });
  }

  function showSession(id) {
    setTab("programme");
    if (state.filter !== "all") setFilter("all");
    var card = $("s-" + id);
    if (card) expand(card);
  }

  function showOrganization(id) {
    setTab("organizations");
    var card = $("o-" + id);
    if (card) expand(card);
  }

  /* --- search (the chat's answer engine) ------------------------------------------------- */

  function resultItem(result) {
    var item = el("li", "result");
    if (result.type === "faq") {
      item.appendChild(el("p", "title", result.title));
      item.appendChild(el("p", "description", result.detail));
      return item;
    }
    var go = el("button", "result-button", null, { type: "button", "data-type": result.type,
      "data-id": result.id });
    go.appendChild(el("span", "title", result.title));
    if (result.detail) go.appendChild(el("span", "when", result.detail));
    go.addEventListener("click", function () {
      if (result.type === "session") showSession(result.id);
      else if (result.type === "organization") showOrganization(result.id);
      else if (result.type === "filter") { setTab("programme"); setFilter(result.id); }
      else if (result.type === "organizations") {
        setTab("organizations");
        var heading = $("role-" + result.id);
        if (heading) heading.scrollIntoView({ block: "start" });
      }
    });
    item.appendChild(go);
    return item;
  }

  function renderResults(found) {
    var box = $("results");
    box.textContent = "";
    var head = el("div", "results-head");
    var lists = [[s("search_results"), found.answers], [s("search_maybe"), found.suggestions]];
    var any = false;
    lists.forEach(function (pair) {
      if (!pair[1].length) return;
      any = true;
      box.appendChild(el("h2", "section-title", pair[0]));
      var list = el("ul", "result-list");
      pair[1].forEach(function (result) { list.appendChild(resultItem(result)); });
      box.appendChild(list);
    });
    if (!any) box.appendChild(el("p", "hint", s("search_none")));
    var clear = el("button", "link-button", s("search_clear"), { type: "button" });
    clear.addEventListener("click", function () {
      box.hidden = true;
      $("search-input").value = "";
    });
    head.appendChild(clear);
    box.appendChild(head);
    box.hidden = false;
  }

  async function runSearch(event) {
    event.preventDefault();
    var query = $("search-input").value.trim();
    if (!query) { $("results").hidden = true; return; }
    try {
      var response = await api("api/search?q=" + encodeURIComponent(query) + "&lang=" +
        encodeURIComponent(state.data.lang));
      if (!response.ok) throw new Error(String(response.status));
      renderResults(await response.json());
    } catch (error) {
      toast(s("load_failed"));
    }
  }

  /* --- loading -------------------------------------------------------------------------- */

  function readOnly() {
    state.authenticated = false;
    if (state.filter === "saved") state.filter = "all";
    var note = $("read-only");
    note.textContent = s("read_only");
    note.hidden = false;
    if (state.data) { renderFilters(); renderTimeline(); }
  }

  function render(data) {
    state.data = data;
    state.authenticated = !!data.authenticated;
    state.saved = new Set(data.saved || []);
    document.documentElement.lang = data.lang;
    document.title = data.event.name;
    $("event-name").textContent = data.event.name;
    $("event-tagline").textContent = data.event.tagline;
    $("event-date").textContent = data.event.date ? "📅 " + data.event.date : s("date_tba");
    var draft = $("draft");
    draft.hidden = !data.draft;
    draft.textContent = data.draft_note || "";
    $("tab-programme").textContent = s("tab_programme");
    $("tab-organizations").textContent = s("tab_organizations");
    $("tabs").hidden = false;
    $("search-label").textContent = s("search_label");
    $("search-input").placeholder = s("search_placeholder");
    $("search-button").textContent = s("search_button");
    $("search").hidden = false;
    $("saved-empty").textContent = s("saved_empty");
    $("failure").hidden = true;
    if (!state.authenticated) readOnly(); else $("read-only").hidden = true;
    renderFilters();
    renderTimeline();
    renderOrganizations();
    document.documentElement.setAttribute("data-ready", "1");
    window.firstRenderMs = performance.now();
  }

  function failed() {
    var boot = {};
    try { boot = JSON.parse($("boot-strings").textContent); } catch (error) { boot = {}; }
    var lang = askedLanguage().slice(0, 2).toLowerCase();
    var strings = boot[lang] || boot.en || { load_failed: "", retry: "↻" };
    $("failure-text").textContent = strings.load_failed;
    $("retry").textContent = strings.retry;
    $("failure").hidden = false;
  }

  async function load() {
    var query = "api/programme?lang=" + encodeURIComponent(askedLanguage());
    try {
      var response = await api(query, { auth: true });
      if (response.status === 401 && initData) {
        // Forged, expired or from another bot: the programme still, read-only.
        initData = "";
        response = await api(query);
      }
      if (!response.ok) throw new Error(String(response.status));
      render(await response.json());
    } catch (error) {
      failed();
    }
  }

  function start() {
    applyTheme();
    if (tg) {
      if (typeof tg.onEvent === "function") tg.onEvent("themeChanged", applyTheme);
      if (typeof tg.ready === "function") tg.ready();
      if (typeof tg.expand === "function") tg.expand();
    }
    $("tab-programme").addEventListener("click", function () { setTab("programme"); });
    $("tab-organizations").addEventListener("click", function () { setTab("organizations"); });
    $("search").addEventListener("submit", runSearch);
    $("retry").addEventListener("click", function () { $("failure").hidden = true; load(); });
    load();
  }

  start();
})();
