"""The page's CSS and the small script that makes [n] markers jump to their source entry.

Both go into the document head through the sources panel's ``gr.HTML(head=...)``, so the app
looks and behaves the same however it is launched.
"""

from __future__ import annotations

CSS = """
#app-header h1 { margin: 0; font-size: 1.6rem; }
#app-header p { margin: .2rem 0 0; color: var(--body-text-color-subdued); }
.answer, .question { line-height: 1.55; }
.answer .cursor { opacity: .6; animation: rag-blink 1s steps(2) infinite; }
@keyframes rag-blink { 50% { opacity: 0; } }
a.cite {
  display: inline-block; padding: 0 .3em; margin: 0 .1em; border-radius: .35em;
  background: var(--color-accent-soft, #e0e7ff); color: var(--color-accent, #4338ca) !important;
  font-size: .8em; font-weight: 600; text-decoration: none !important; cursor: pointer;
  vertical-align: super; line-height: 1.2;
}
a.cite:hover { filter: brightness(.92); }
.refusal {
  border-left: 4px solid #d97706; background: #fffbeb; color: #78350f;
  padding: .55em .8em; border-radius: .4em;
}
.refusal-title { font-weight: 700; display: block; }
.unverified-note { color: #b45309; font-size: .85em; }
.unsupported-note {
  margin-top: .4em; color: #b45309; font-size: .85em; border-top: 1px dashed #fcd34d;
  padding-top: .3em;
}
.notice { padding: .55em .8em; border-radius: .4em; margin: .25em 0; border-left: 4px solid; }
.notice-warning { background: #fffbeb; border-color: #d97706; color: #78350f; }
.notice-error { background: #fef2f2; border-color: #dc2626; color: #7f1d1d; }
.notice-info { background: #eff6ff; border-color: #2563eb; color: #1e3a8a; }
.notice-success { background: #f0fdf4; border-color: #16a34a; color: #14532d; }
/* The sources scroll inside their own box, whatever the window: never beyond the page. */
#sources-panel {
  max-height: min(640px, calc(100vh - 220px)); min-height: 160px;
  overflow-y: auto !important; overscroll-behavior: contain;
}
#sources-panel > * { max-height: none; }
/* Polled every second: no elapsed-time overlay on these. */
#index-banner [data-testid="status-tracker"], #header [data-testid="status-tracker"],
#docs-progress [data-testid="status-tracker"], #empty-hint [data-testid="status-tracker"],
#feedback-status [data-testid="status-tracker"], #docs-page-label [data-testid="status-tracker"] {
  display: none !important;
}
.index-banner {
  background: #eff6ff; border: 1px solid #93c5fd; color: #1e3a8a; border-radius: .5em;
  padding: .5em .8em; font-weight: 600;
}
.folder-line code.folder { font-size: .9em; word-break: break-all; }
.docs-progress { color: #1e3a8a; padding: .3em 0; font-weight: 600; }
.docs-progress .spinner {
  display: inline-block; width: .8em; height: .8em; margin-right: .5em; border-radius: 50%;
  border: 2px solid #93c5fd; border-top-color: #1d4ed8; animation: rag-spin 1s linear infinite;
}
@keyframes rag-spin { to { transform: rotate(360deg); } }
.incomplete-note { margin-top: .4em; }
#documents-table { cursor: pointer; }
@media (max-width: 640px) {
  #app-header h1 { font-size: 1.25rem; }
  #app-header p { font-size: .85rem; }
  #sources-panel { max-height: 60vh; }
  #chat-row { flex-direction: column; }
}
#sources-panel h3 { margin: 0 0 .4em; font-size: 1.05rem; }
.sources-empty { color: var(--body-text-color-subdued); font-style: italic; padding: .5em 0; }
.turn-question { font-weight: 600; margin: .2em 0 .5em; }
.source {
  border: 1px solid var(--border-color-primary, #e5e7eb); border-radius: .5em;
  padding: .55em .75em; margin-bottom: .6em; transition: box-shadow .3s, border-color .3s;
  scroll-margin: 1em;
}
.source.selected {
  border-color: var(--color-accent, #f97316);
  box-shadow: 0 0 0 3px var(--color-accent-soft, #ffedd5);
}
.source.unverified { border-style: dashed; }
.source-head { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .35em; }
.source-index { font-weight: 700; color: var(--color-accent, #4338ca); }
.source-file { font-weight: 600; color: var(--body-text-color); }
.badge-unverified {
  background: #fef3c7; color: #92400e; border-radius: .3em; padding: 0 .35em; font-weight: 600;
}
.source.closest { border-style: dotted; opacity: .9; }
.closest-title { font-weight: 600; margin: .6em 0 .3em; }
.badge-closest {
  background: #e5e7eb; color: #374151; border-radius: .3em; padding: 0 .35em; font-weight: 600;
}
.passage { white-space: pre-wrap; font-size: .92em; line-height: 1.5; }
.passage mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: .15em; }
details.earlier { margin-top: .6em; }
details.earlier summary { cursor: pointer; color: var(--body-text-color-subdued); }
table.docs { width: 100%; border-collapse: collapse; font-size: .92em; border: none; }
#documents-table table.docs th, #documents-table table.docs td {
  text-align: left; padding: .35em .6em; border: none;
  border-bottom: 1px solid var(--border-color-primary);
}
#documents-table table.docs th { background: var(--background-fill-secondary); }
#documents-table table.docs td.num { text-align: right; font-variant-numeric: tabular-nums; }
.docs-total { margin-top: .4em; color: var(--body-text-color-subdued); font-size: .9em; }
"""

# A click on [n] in any answer selects and scrolls to that answer's source entry (opening the
# folded section of an earlier answer), instead of following the link.
SCRIPT = """
(() => {
  if (window.__ragCitations) return;
  window.__ragCitations = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a.cite, a[href^="#src-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const entry = document.getElementById((link.getAttribute("href") || "").slice(1));
    if (!entry) return;
    const folded = entry.closest("details");
    if (folded) folded.open = true;
    document.querySelectorAll(".source.selected").forEach((e) => e.classList.remove("selected"));
    entry.classList.add("selected");
    entry.scrollIntoView({ behavior: "smooth", block: "nearest" });
  }, true);
})();
"""

HEAD = f"<style>{CSS}</style><script>{SCRIPT}</script>"
