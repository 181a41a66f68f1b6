// The Explorer's only client script, loaded with `defer` from 'self' (no inline code, CSP-safe). Every feature
// here enhances a page that already works without it: links and GET forms stay the source of truth.

function onReady(fn: () => void) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
  else fn();
}

// Theme: flip data-theme and remember it in a cookie the server reads on the next render.
function themes() {
  for (const link of document.querySelectorAll<HTMLAnchorElement>("a[data-theme-set]")) {
    link.addEventListener("click", (e) => {
      e.preventDefault();
      const mode = link.dataset.themeSet === "dark" ? "dark" : "light";
      document.documentElement.dataset.theme = mode; // CSS now shows the other link
      document.cookie = `opendepot_color_mode=${mode}; Path=/; Max-Age=31536000; SameSite=Lax`;
      document.querySelector<HTMLAnchorElement>(`a[data-theme-set="${mode === "dark" ? "light" : "dark"}"]`)?.focus();
    });
  }
}

// Search as you type: the filter form's results are re-rendered by the server (?fragment=results).
function searchAsYouType() {
  const form = document.querySelector<HTMLFormElement>("form[data-live-search]");
  const results = document.getElementById("results");
  if (!form || !results) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;
  const refresh = async () => {
    const params = new URLSearchParams(new FormData(form) as unknown as Record<string, string>);
    for (const [k, v] of [...params]) if (v === "") params.delete(k);
    params.delete("page");
    const query = params.toString();
    const mine = ++seq;
    const res = await fetch(`/?${query}${query ? "&" : ""}fragment=results`, { credentials: "same-origin" });
    if (!res.ok || mine !== seq) return;
    results.innerHTML = await res.text(); // server-rendered, escaped markup from our own origin
    history.replaceState(null, "", query ? `/?${query}` : "/");
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 150);
  });
  form.addEventListener("change", (e) => {
    if ((e.target as HTMLElement).tagName === "SELECT" || (e.target as HTMLInputElement).type === "radio") {
      clearTimeout(timer);
      void refresh();
    }
  });
}

// Copy buttons: copy the text of the element named by data-copy, announce the result.
function copyButtons() {
  for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy ?? "");
      const status = document.getElementById(`${button.dataset.copy}-status`);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent ?? "");
        if (status) status.textContent = "Copied to the clipboard";
      } catch {
        if (status) status.textContent = "Copy failed: select the text and copy it";
      }
    });
  }
}

// Selects marked data-autosubmit submit their form on change (version switcher, filters).
function autoSubmit() {
  for (const select of document.querySelectorAll<HTMLSelectElement>("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form?.requestSubmit());
  }
}

// Depot graph: a click on a node loads its detail panel without a reload; the URL keeps ?focus= for deep links.
function depotGraph() {
  const panel = document.getElementById("graph-detail");
  if (!panel) return;
  for (const node of document.querySelectorAll<SVGAElement>("a[data-node]")) {
    node.addEventListener("click", async (e) => {
      e.preventDefault();
      const href = node.getAttribute("href") ?? "";
      const res = await fetch(`${href}${href.includes("?") ? "&" : "?"}fragment=panel`, { credentials: "same-origin" });
      if (!res.ok) return;
      panel.innerHTML = await res.text();
      for (const n of document.querySelectorAll("a[data-node]")) n.classList.toggle("selected", n === node);
      history.replaceState(null, "", href);
      panel.focus();
    });
  }
}

onReady(() => {
  themes();
  searchAsYouType();
  copyButtons();
  autoSubmit();
  depotGraph();
});
