// The article editor (templates/articles/edit.html). A static file: the Content-Security-Policy
// allows no inline script.
//
// Autosave: 1.5 s after typing stops and when a field loses focus, the form is posted with its
// base revision (hidden field `revision`). 200: saved, the base becomes the new revision; 409: the
// server refused a stale save and answered the conflict (both texts and a word diff), autosave
// pauses until the editor keeps theirs or keeps mine; 400/403: the reason is shown. One save at a
// time: typing during a save marks the text dirty again and the next save follows it.
//
// Selecting text in the editor or the preview fills the comment's quote field (and, from the
// editor, the passage to rewrite). Rewrite suggestions stream in over /ws/generations/<id>/.
(() => {
  const ACTIVE = ["queued", "running"];
  const LABELS = { queued: "Queued", running: "Writing", completed: "Done", cancelled: "Cancelled",
                   interrupted: "Interrupted", failed: "Failed" };
  const AUTOSAVE_DELAY_MS = 1500;
  const RETRY_DELAY_MS = 5000;

  function start() {
    const form = document.getElementById("editor");
    setUpSelection();
    document.body.addEventListener("comment-added", () => document.getElementById("comment-form")?.reset());
    if (!form) return;
    const { body, title, revision, note } = form.elements;
    const csrf = form.elements.csrfmiddlewaretoken.value;
    const status = document.getElementById("save-status");
    const conflictBox = document.getElementById("conflict");
    // A page served with a conflict (a save without script) holds unsaved text: keep it dirty.
    let paused = Boolean(conflictBox.querySelector("#conflict-panel"));
    let dirty = paused;
    let inFlight = false;
    let pending = false;
    let timer = null;
    let forcedNote = "";

    const say = (text, isError = false) => {
      status.textContent = text;
      status.classList.toggle("error", isError);
    };
    const schedule = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(save, ms);
    };

    function changed() {
      dirty = true;
      if (paused) {
        say("Not saved: choose how to resolve the conflict above.", true);
        return;
      }
      say("Editing…");
      schedule(AUTOSAVE_DELAY_MS);
    }

    async function save() {
      clearTimeout(timer);
      if (paused || !dirty) return;
      if (inFlight) {
        pending = true; // the next save follows this one
        return;
      }
      dirty = false;
      inFlight = true;
      say("Saving…");
      const data = new FormData(form);
      if (forcedNote) data.set("note", forcedNote);
      let response;
      let html = "";
      try {
        response = await fetch(form.action, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "X-Editor-Autosave": "1", "X-CSRFToken": csrf },
        });
        html = await response.text();
      } catch (error) {
        inFlight = false;
        dirty = true;
        say("Not saved: the server cannot be reached. Trying again…", true);
        schedule(RETRY_DELAY_MS);
        return;
      }
      inFlight = false;
      if (response.ok) {
        status.innerHTML = html; // rendered and escaped by the server
        status.classList.remove("error");
        const saved = status.querySelector("[data-revision]");
        if (saved) revision.value = saved.dataset.revision;
        forcedNote = "";
        note.value = "";
        document.body.dispatchEvent(new CustomEvent("article-saved"));
      } else if (response.status === 409) {
        dirty = true;
        paused = true;
        pending = false;
        conflictBox.innerHTML = html;
        say("Not saved: someone else saved first. Your text is still here.", true);
        conflictBox.scrollIntoView({ behavior: "smooth", block: "start" });
        document.body.dispatchEvent(new CustomEvent("article-saved")); // their revision joins the list
        return;
      } else {
        dirty = true; // kept for the next attempt, made on the next change
        status.innerHTML = html || `Not saved (error ${response.status}).`;
        status.classList.add("error");
        if (response.status === 403) paused = true;
        return;
      }
      if (pending) {
        pending = false;
        save();
      }
    }

    // Resolves once nothing is waiting to be saved; false while a conflict holds the text.
    async function flush() {
      for (let i = 0; i < 200 && (inFlight || (dirty && !paused)); i++) {
        if (!inFlight) save();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return !dirty && !inFlight && !paused;
    }

    for (const field of [body, title]) {
      field.addEventListener("input", changed);
      field.addEventListener("blur", () => save());
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!paused) {
        dirty = true; // "Save now" saves even a note on unchanged text
        save();
      }
    });
    document.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key === "s") { // save now, not the browser's "save page"
        event.preventDefault();
        form.requestSubmit();
      }
    });
    window.addEventListener("beforeunload", (event) => {
      if (dirty || inFlight) event.preventDefault();
    });

    document.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-action]");
      if (!button) return;
      const action = button.dataset.action;
      if (action === "keep-mine") {
        const panel = document.getElementById("conflict-panel");
        revision.value = panel.dataset.latestRevision; // an explicit choice: save over theirs
        forcedNote = `Kept mine over r${panel.dataset.latestRevision}`;
        conflictBox.innerHTML = "";
        paused = false;
        dirty = true;
        save();
      } else if (action === "take-theirs") {
        dirty = false;
        paused = false;
        window.location.replace(window.location.pathname); // the editor with the latest text
      } else if (action === "accept" || action === "discard") {
        const card = button.closest("[data-suggestion]");
        const error = card.querySelector("[data-role=error]");
        button.disabled = true;
        if (action === "accept" && !(await flush())) {
          error.textContent = "Save your text first (resolve the conflict above), then accept.";
          button.disabled = false;
          return;
        }
        const data = new FormData();
        data.set("revision", revision.value);
        let answer;
        try {
          const response = await fetch(card.dataset[action === "accept" ? "acceptUrl" : "discardUrl"], {
            method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf },
          });
          answer = await response.json();
        } catch (failure) {
          answer = { error: "The server cannot be reached; try again." };
        }
        if (answer.error) {
          error.textContent = answer.error;
          button.disabled = false;
          return;
        }
        card.closeSocket?.();
        card.remove();
        if (action === "accept") {
          body.value = answer.body;
          title.value = answer.title;
          revision.value = answer.revision;
          status.innerHTML = answer.status_html;
          body.dispatchEvent(new CustomEvent("refresh-preview"));
          document.body.dispatchEvent(new CustomEvent("article-saved"));
        }
      }
    });

    document.querySelectorAll("[data-suggestion]").forEach(follow);
    document.body.addEventListener("htmx:afterSwap", () => document.querySelectorAll("[data-suggestion]").forEach(follow));
  }

  // A suggestion streams in over the JSON socket: the first text a connection sends is the whole
  // text so far, later ones append; the final state carries the stored (authoritative) text.
  function follow(card) {
    if (card.dataset.following || !ACTIVE.includes(card.dataset.status)) return;
    card.dataset.following = "1";
    const text = card.querySelector("[data-role=text]");
    const pill = card.querySelector("[data-role=status]");
    const accept = card.querySelector("[data-action=accept]");
    const error = card.querySelector("[data-role=error]");
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + card.dataset.ws);
    let fresh = true;
    card.closeSocket = () => socket.close();
    // The server joins the generation's group before it accepts: from "open" on, nothing is missed.
    socket.addEventListener("open", () => { card.dataset.live = "1"; });
    socket.addEventListener("message", (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "append") {
        text.textContent = (fresh ? "" : text.textContent) + event.text;
        fresh = false;
      } else if (event.type === "state") {
        card.classList.replace(`status-${card.dataset.status}`, `status-${event.status}`);
        card.dataset.status = event.status;
        pill.textContent = LABELS[event.status] || event.status;
        if (typeof event.text === "string") text.textContent = event.text;
        if (!ACTIVE.includes(event.status)) {
          if (accept) accept.disabled = event.status !== "completed" || !text.textContent.trim();
          if (event.error) error.textContent = event.error;
          socket.close();
        }
      }
    });
    socket.addEventListener("close", (event) => {
      card.dataset.live = "";
      if (ACTIVE.includes(card.dataset.status) && card.isConnected && ![4401, 4403].includes(event.code)) {
        card.dataset.following = "";
        setTimeout(() => follow(card), 1000 + Math.random() * 1000);
      }
    });
  }

  // Selected text becomes the comment's quote; selected in the Markdown source, also the passage to rewrite.
  function setUpSelection() {
    const onSelection = () => {
      const area = document.getElementById("editor-body");
      const preview = document.querySelector(".preview");
      let text = "";
      let fromSource = false;
      if (area && document.activeElement === area && area.selectionEnd > area.selectionStart) {
        text = area.value.slice(area.selectionStart, area.selectionEnd);
        fromSource = true;
      } else {
        const selection = window.getSelection();
        if (selection && !selection.isCollapsed && preview && preview.contains(selection.anchorNode)
            && preview.contains(selection.focusNode)) {
          text = selection.toString();
        }
      }
      text = text.trim();
      if (!text) return;
      const quote = document.getElementById("comment-quote");
      if (quote) quote.value = text;
      const passage = document.getElementById("rewrite-passage");
      if (passage && fromSource) passage.value = text;
    };
    document.addEventListener("mouseup", onSelection);
    document.addEventListener("keyup", (event) => {
      if (event.shiftKey || event.key.startsWith("Arrow")) onSelection();
    });
    document.getElementById("editor-body")?.addEventListener("select", onSelection);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
