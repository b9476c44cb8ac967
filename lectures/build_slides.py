"""Build every lecture notebook as a reveal.js slide deck that works offline.

Usage (``make slides`` runs the first form)::

    .venv/bin/python lectures/build_slides.py                 # all lectures, executed first
    .venv/bin/python lectures/build_slides.py 02 04           # only lectures 02 and 04
    .venv/bin/python lectures/build_slides.py --no-execute    # skip execution (no figures)
    .venv/bin/python lectures/build_slides.py --output-dir /tmp/slides

Each notebook is executed headless with nbclient (so its figures are embedded as PNG data) and
converted with nbconvert's ``SlidesExporter``; the decks are written to ``lectures/_build/``
(git-ignored) as ``<name>.slides.html``.

Offline: nbconvert's reveal template loads reveal.js, require.js, jQuery and MathJax from CDNs.
This script replaces those script tags:

* If a local reveal.js 4.x is available (``$REVEAL_JS_DIR``, ``lectures/_vendor/reveal.js``, or
  ``<venv>/share/javascript/reveal.js``; a directory containing ``dist/reveal.js``), it is copied to
  ``<output>/reveal.js`` and the decks load it by a relative path.
* Otherwise (the default here: no Python package ships reveal.js) the decks get a small inline
  slide navigator instead (arrow keys, space, Home/End, ``#n`` in the URL; add ``?all`` to the URL
  to show every slide on one page for printing). No remote script is referenced.
* Math: if a local MathJax 2 is available (``$MATHJAX_DIR`` or ``/usr/share/javascript/mathjax``,
  Debian package ``libjs-mathjax``) it is referenced by a ``file://`` URL; otherwise formulas are
  shown as their LaTeX source.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "_build"
CELL_TIMEOUT = 300

# Single-threaded BLAS: faster and steadier than oversubscribed threads on a small shared machine.
KERNEL_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

TEMPLATE_NAME = "layerlab_offline_slides.html.j2"

# Inline navigator used when no local reveal.js exists. Plain ES5, no dependencies.
FALLBACK_JS = r"""
<style>
  body.ll-deck { margin: 0; background: #fff; }
  .ll-deck .reveal .slides > section > section,
  .ll-deck .reveal .slides > section:not(:has(section)) {
    max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; box-sizing: border-box;
  }
  .ll-deck .ll-hidden { display: none !important; }
  .ll-deck .fragment { opacity: 1 !important; visibility: visible !important; }
  .ll-deck img { max-width: 100%; }
  #ll-counter { position: fixed; right: 1em; bottom: 0.7em; font: 14px sans-serif; color: #555;
                background: rgba(255,255,255,0.85); padding: 0.2em 0.5em; border-radius: 4px; }
  @media print { .ll-deck .ll-hidden { display: block !important; } #ll-counter { display: none; } }
</style>
<div id="ll-counter"></div>
<script>
(function () {
  document.body.classList.add("ll-deck");
  var root = document.querySelector(".reveal .slides");
  if (!root) { return; }
  var slides = [];
  Array.prototype.forEach.call(root.children, function (sec) {
    if (sec.tagName !== "SECTION") { return; }
    var inner = Array.prototype.filter.call(sec.children, function (c) {
      return c.tagName === "SECTION";
    });
    if (inner.length) { inner.forEach(function (s) { slides.push(s); }); }
    else { slides.push(sec); }
  });
  var counter = document.getElementById("ll-counter");
  if (/[?&]all\b/.test(window.location.search)) { counter.style.display = "none"; return; }
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach(function (s, k) { s.classList.toggle("ll-hidden", k !== current); });
    counter.textContent = (current + 1) + " / " + slides.length +
      "   (arrow keys / space to navigate)";
    if (window.location.hash !== "#" + (current + 1)) {
      history.replaceState(null, "", "#" + (current + 1));
    }
    window.scrollTo(0, 0);
  }
  document.addEventListener("keydown", function (e) {
    var next = ["ArrowRight", "ArrowDown", "PageDown", " ", "Enter"];
    var prev = ["ArrowLeft", "ArrowUp", "PageUp", "Backspace"];
    if (next.indexOf(e.key) >= 0) { show(current + 1); e.preventDefault(); }
    else if (prev.indexOf(e.key) >= 0) { show(current - 1); e.preventDefault(); }
    else if (e.key === "Home") { show(0); }
    else if (e.key === "End") { show(slides.length - 1); }
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("a, pre, code, input, textarea")) { return; }
    show(current + (e.clientX > window.innerWidth / 3 ? 1 : -1));
  });
  var start = parseInt((window.location.hash || "#1").slice(1), 10);
  show(isNaN(start) ? 0 : start - 1);
})();
</script>
"""

REVEAL_JS = r"""
<script src="{prefix}/dist/reveal.js"></script>
<script src="{prefix}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({{controls: true, progress: true, history: true, transition: "slide",
                    slideNumber: "c/t", width: 1100, height: 800,
                    plugins: [RevealNotes]}});
</script>
"""


class BuildError(Exception):
    """A failure with a one-sentence explanation for the user."""


def find_reveal() -> Path | None:
    """A local reveal.js 4.x directory (one containing dist/reveal.js), or None."""
    candidates = [os.environ.get("REVEAL_JS_DIR", ""), HERE / "_vendor" / "reveal.js"]
    candidates += [Path(sys.prefix) / "share" / "javascript" / "reveal.js"]
    candidates += [Path("/usr/share/javascript/reveal.js")]
    for cand in candidates:
        if cand and (Path(cand) / "dist" / "reveal.js").is_file():
            return Path(cand)
    return None


def find_mathjax() -> Path | None:
    """A local MathJax 2 directory (one containing MathJax.js), or None."""
    candidates = [os.environ.get("MATHJAX_DIR", ""), "/usr/share/javascript/mathjax"]
    for cand in candidates:
        if cand and (Path(cand) / "MathJax.js").is_file():
            return Path(cand)
    return None


def make_template(reveal_prefix: str | None, mathjax_dir: Path | None) -> str:
    """A Jinja template extending nbconvert's reveal template with every CDN reference removed."""
    if mathjax_dir is not None:
        url = (mathjax_dir / "MathJax.js").as_uri() + "?config=TeX-AMS_HTML-full,Safe"
        mathjax = (
            '<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax: {inlineMath: '
            "[['$','$'], ['\\\\(','\\\\)']], processEscapes: true}});</script>\n"
            f'<script src="{url}"></script>'
        )
    else:
        mathjax = "<!-- no local MathJax found: formulas are shown as LaTeX source -->"
    if reveal_prefix is not None:
        footer = REVEAL_JS.format(prefix=reveal_prefix)
    else:
        footer = FALLBACK_JS
    parts = [
        "{%- extends 'reveal/index.html.j2' -%}",
        "{%- block html_head_js -%}{%- endblock html_head_js -%}",
        "{%- block html_head_js_mathjax -%}",
        mathjax,
        "{%- endblock html_head_js_mathjax -%}",
        "{% block footer_js %}{% raw %}",
        footer,
        "{% endraw %}{% endblock footer_js %}",
    ]
    return "\n".join(parts) + "\n"


def lecture_notebooks(selected: list[str]) -> list[Path]:
    notebooks = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise BuildError(f"no lecture notebooks (NN_*.ipynb) found in {HERE}.")
    if selected:
        notebooks = [nb for nb in notebooks if any(nb.stem.startswith(s) for s in selected)]
        if not notebooks:
            raise BuildError(f"no lecture notebook matches {' '.join(selected)}.")
    return notebooks


def execute(nb, path: Path) -> float:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env={**os.environ, **KERNEL_ENV})
    except CellExecutionError as exc:
        last = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"executing {path.name} failed: {last}") from exc
    except Exception as exc:  # kernel missing, timeout, ...
        raise BuildError(f"could not execute {path.name}: {type(exc).__name__}: {exc}") from exc
    return time.perf_counter() - start


def remote_references(html: str) -> list[str]:
    """URLs of scripts and stylesheets that a browser would fetch from the network."""
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    return [t for t in tags if re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", t)]


def build(selected: list[str], out_dir: Path, run: bool) -> list[Path]:
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import SlidesExporter

    notebooks = lecture_notebooks(selected)
    out_dir.mkdir(parents=True, exist_ok=True)

    reveal_dir, mathjax_dir = find_reveal(), find_mathjax()
    prefix = None
    if reveal_dir is not None:
        shutil.copytree(reveal_dir, out_dir / "reveal.js", dirs_exist_ok=True)
        prefix = "reveal.js"
        print(f"using local reveal.js from {reveal_dir}")
    else:
        print("no local reveal.js found: using the built-in offline slide navigator")
    if mathjax_dir is None:
        print("no local MathJax found: formulas are shown as LaTeX source")

    exporter = SlidesExporter(
        extra_loaders=[DictLoader({TEMPLATE_NAME: make_template(prefix, mathjax_dir)})],
        template_file=TEMPLATE_NAME,
        reveal_url_prefix=prefix or "reveal.js",
        reveal_theme="white",
    )
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        seconds = execute(nb, path) if run else 0.0
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        if prefix is None:
            # the reveal stylesheets would only be 404s without a local reveal.js
            body = re.sub(r'<link\b[^>]*href="reveal\.js/[^"]*"[^>]*>\s*', "", body)
        remote = remote_references(body)
        if remote:
            raise BuildError(f"{path.name} would still load {remote[0]} from the network.")
        target = out_dir / f"{path.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        figures = len(re.findall(r"<img\b[^>]*src=\"data:image/png;base64", body))
        note = f"executed in {seconds:.1f} s, " if run else "not executed, "
        print(f"wrote {target} ({note}{figures} figures)")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the lecture slide decks (offline).")
    parser.add_argument("lectures", nargs="*", help="lecture prefixes, e.g. 01 03 (default: all)")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-execute", action="store_true", help="convert without executing")
    args = parser.parse_args(argv)
    try:
        build(args.lectures, args.output_dir.resolve(), run=not args.no_execute)
    except BuildError as exc:
        print(f"build_slides: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything unexpected still gets a one-line message
        print(f"build_slides: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
