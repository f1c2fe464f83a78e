// The room's screen: the approved questions by votes, fetched every second (no reload).
// Every text is user text: set with textContent, never as HTML.
"use strict";
(function () {
  const root = document.documentElement;
  const strings = JSON.parse(root.dataset.strings || "{}");
  const params = new URLSearchParams(location.search);
  const session = location.pathname.split("/").filter(Boolean)[1] || "";
  const source = `/live/${encodeURIComponent(session)}/questions?key=` +
    encodeURIComponent(params.get("key") || "");
  const EVERY_MS = 1000;

  function questionItem(question, tag) {
    const item = document.createElement(tag);
    item.className = "question";
    item.dataset.id = String(question.id);
    const votes = document.createElement("span");
    votes.className = "votes";
    votes.textContent = "▲ " + question.votes;  // no emoji font needed on the projector
    const body = document.createElement("div");
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = question.text;
    const name = document.createElement("p");
    name.className = "name";
    name.textContent = question.name || strings.anonymous || "";
    body.append(text, name);
    item.append(votes, body);
    return item;
  }

  function render(board) {
    document.getElementById("heading").textContent = strings.heading || "";
    const state = document.getElementById("state");
    state.textContent = board.open ? "" : strings.closed || "";
    state.hidden = board.open;
    state.classList.toggle("closed", !board.open);
    const pinned = document.getElementById("pinned");
    const pinnedQuestion = document.getElementById("pinned-question");
    pinnedQuestion.replaceChildren();
    pinned.hidden = !board.pinned;
    if (board.pinned) {
      document.getElementById("next-label").textContent = strings.next || "";
      pinnedQuestion.append(questionItem(board.pinned, "div"));
    }
    const list = document.getElementById("questions");
    list.replaceChildren(...board.questions.map((q) => questionItem(q, "li")));
    const empty = document.getElementById("empty");
    empty.textContent = strings.empty || "";
    empty.hidden = board.questions.length > 0 || Boolean(board.pinned);
    root.dataset.version = String(board.version);
    root.dataset.ready = "1";
  }

  async function look() {
    try {
      const response = await fetch(source, { cache: "no-store" });
      if (response.ok) {
        render(await response.json());
      }
    } catch (error) {
      // The bot restarting: the next look tries again; the screen keeps what it shows.
    }
    setTimeout(look, EVERY_MS);
  }
  look();
})();
