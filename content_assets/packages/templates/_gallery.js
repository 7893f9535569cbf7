// The gallery's cards, rendered from its data block a page at a time, searched and filtered, and
// each package's post copied for the blog editor. Included by _gallery.html.j2 (no template syntax
// in here). Seller strings only ever become text: textContent and attributes, never innerHTML.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("gallery-data").textContent);
  const cards = data.cards.map((card) => ({ ...card, key: searchKey(card) }));
  const list = document.getElementById("cards");
  const search = document.getElementById("search");
  const more = document.getElementById("more");
  const shown = document.getElementById("shown");
  const template = document.getElementById("card-template").content.firstElementChild;
  const filters = Array.from(document.querySelectorAll("#filters .filter"));
  const cardOf = new WeakMap(); // card element -> its data
  let status = "";
  let matching = cards;
  let rendered = 0;

  function normalized(text) {
    return String(text).normalize("NFC").toLowerCase();
  }

  function searchKey(card) {
    return normalized([card.n, card.t, card.m || ""].join(" "));
  }

  function folder(card) {
    return `${card.n}/${card.v}`;
  }

  // -- search, filter, pages ---------------------------------------------------------------------

  function apply() {
    const words = normalized(search.value).split(/\s+/).filter(Boolean);
    const found = words.length ? cards.filter((card) => words.every((word) => card.key.includes(word))) : cards;
    const counts = new Map();
    for (const card of found) counts.set(card.s, (counts.get(card.s) || 0) + 1);
    for (const button of filters) {
      const own = button.dataset.status;
      button.querySelector(".count").textContent = own ? counts.get(own) || 0 : found.length;
      button.setAttribute("aria-pressed", String(own === status));
    }
    matching = status ? found.filter((card) => card.s === status) : found;
    list.replaceChildren();
    rendered = 0;
    renderMore();
    remember(words.join(" "));
  }

  function renderMore() {
    const page = document.createDocumentFragment();
    for (const card of matching.slice(rendered, rendered + data.pageSize)) page.append(cardElement(card));
    list.append(page);
    rendered = Math.min(rendered + data.pageSize, matching.length);
    const all = matching.length === cards.length ? "" : ` (${cards.length} in all)`;
    shown.textContent = `showing ${rendered} of ${matching.length}${all}`;
    more.hidden = rendered >= matching.length;
  }

  // The search and the filter live in the address (#q=…&status=…), so a view can be kept or
  // shared; an old card anchor (#p123-default) searches for its product.
  function remember(query) {
    const state = new URLSearchParams();
    if (query) state.set("q", query);
    if (status) state.set("status", status);
    const hash = state.toString();
    history.replaceState(null, "", hash ? `#${hash}` : location.pathname);
  }

  function restore() {
    const hash = decodeURIComponent(location.hash.slice(1));
    const anchor = /^p(\d+)-/.exec(hash);
    if (anchor) {
      search.value = anchor[1];
      return;
    }
    const state = new URLSearchParams(location.hash.slice(1));
    search.value = state.get("q") || "";
    const wanted = state.get("status") || "";
    status = filters.some((button) => button.dataset.status === wanted) ? wanted : "";
  }

  // -- one card ----------------------------------------------------------------------------------

  function cardElement(card) {
    const element = template.cloneNode(true);
    cardOf.set(element, card);
    element.id = `p${card.n}-${card.v || "none"}`;
    element.dataset.status = card.s;
    if (card.s === "failed" || card.s === "quarantined") element.classList.add("alert");
    const preview = element.querySelector(".preview");
    if (card.v && card.i) {
      preview.href = `${folder(card)}/preview.html`;
      preview.querySelector("img").src = `${folder(card)}/images/01.jpg`;
    } else {
      const blank = document.createElement("div");
      blank.className = "thumb";
      preview.replaceWith(blank);
    }
    fillTitle(card, element.querySelector(".disclosure"), element.querySelector(".title"));
    element.querySelector(".facts").textContent = [card.n, card.v, card.p].filter(Boolean).join(" · ");
    const label = element.querySelector(".status");
    label.textContent = card.s;
    label.style.color = data.colours[card.s] || "#222";
    element.querySelector(".note-text").textContent = (card.x || []).map((note) => ` · ${note}`).join("");
    if (card.v) {
      for (const link of element.querySelectorAll(".links a")) link.href = `${folder(card)}/${link.dataset.file}`;
    } else {
      element.querySelector(".links").remove();
      element.querySelector(".actions").remove();
    }
    return element;
  }

  // The disclosure the title begins with gets an element of its own, outside the clamp.
  function fillTitle(card, disclosure, title) {
    title.title = card.t;
    if (card.d && card.t.startsWith(card.d)) {
      disclosure.textContent = card.d;
      title.textContent = card.t.slice(card.d.length).trim();
    } else {
      disclosure.remove();
      title.textContent = card.t;
    }
  }

  // -- copying a post --------------------------------------------------------------------------

  const posts = new Map(); // folder -> Promise of {originProductNo, variant, title, html}
  const waiting = new Map(); // folder -> resolve, until its post.js has called contentOpsPost
  window.contentOpsPost = (post) => {
    const key = `${post.originProductNo}/${post.variant}`;
    const resolve = waiting.get(key);
    if (resolve) {
      waiting.delete(key);
      resolve(post);
    }
  };

  function loadPost(card) {
    const key = folder(card);
    if (!posts.has(key)) {
      posts.set(key, new Promise((resolve, reject) => {
        const script = document.createElement("script");
        const fail = (why) => {
          script.remove();
          if (waiting.delete(key)) {
            posts.delete(key); // a later click tries again
            reject(new Error(`${key}/${data.postScript} ${why}`));
          }
        };
        waiting.set(key, resolve);
        script.src = `${key}/${data.postScript}`;
        script.onload = () => fail("handed over no post");
        script.onerror = () => fail("could not be loaded");
        document.head.append(script);
      }));
    }
    return posts.get(key);
  }

  // The post as the editor takes it: rich HTML with its inline styles, plain text beside it for
  // whatever takes no HTML. The ClipboardItem gets promises, so the write starts within the click.
  async function copyPost(card) {
    const post = loadPost(card);
    if (window.ClipboardItem && navigator.clipboard && navigator.clipboard.write) {
      try {
        const html = post.then((p) => new Blob([p.html], { type: "text/html" }));
        const text = post.then((p) => new Blob([plainText(p.html)], { type: "text/plain" }));
        await navigator.clipboard.write([new ClipboardItem({ "text/html": html, "text/plain": text })]);
        return "post copied";
      } catch (error) {
        await post; // a post that could not be loaded is the error; else try plain text
      }
    }
    await navigator.clipboard.writeText(plainText((await post).html));
    return "post copied as plain text";
  }

  // DOMParser's document is inert: nothing in it runs or loads.
  function plainText(html) {
    const body = new DOMParser().parseFromString(html, "text/html").body;
    for (const br of body.querySelectorAll("br")) br.replaceWith("\n");
    for (const block of body.querySelectorAll("p, div, h1, h2, h3, h4, li, tr")) block.append("\n");
    return body.textContent.replace(/[ \t]*\n\s*/g, "\n").trim();
  }

  async function copy(button) {
    const element = button.closest(".card");
    const card = cardOf.get(element);
    const said = element.querySelector(".copy-status");
    said.classList.remove("failed");
    said.textContent = "copying…";
    try {
      if (button.dataset.copy === "title") {
        await navigator.clipboard.writeText(card.t);
        said.textContent = "title copied";
      } else {
        said.textContent = await copyPost(card);
      }
    } catch (error) {
      said.classList.add("failed");
      said.textContent = `copy failed: ${error && error.message ? error.message : error}`;
    }
  }

  // -- wiring ------------------------------------------------------------------------------------

  let typing = 0;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(apply, 120);
  });
  for (const button of filters) {
    button.addEventListener("click", () => {
      status = button.dataset.status;
      apply();
    });
  }
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });
  more.addEventListener("click", renderMore);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && rendered < matching.length) renderMore();
    }, { rootMargin: "800px" }).observe(more);
  }
  restore();
  apply();
  performance.mark("gallery-first-render"); // the first page of cards is in the DOM: a test times the page by it
})();
