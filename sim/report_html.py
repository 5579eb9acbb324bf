"""report.html: the report as one self-contained page that opens from a file.

The page is report.md rendered by Python-Markdown (tables extension), with every figure
embedded as a base64 PNG, the style inline and a few lines of script that sort a table
by the column whose header is clicked. It loads nothing from a network or a server, so
it can be mailed or opened straight from a results folder.
"""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

#: Readable tables and text on a laptop screen or printed; nothing fetched.
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1b1b1b; background: #fff; line-height: 1.45; }
main { max-width: 70rem; margin: 0 auto; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin-top: 0.5rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #d8dde3; padding-bottom: 0.2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.1rem; margin-top: 1.8rem; }
blockquote { margin: 0.5rem 0; padding: 0.4rem 1rem; border-left: 4px solid #4a7bb7;
             background: #f3f6fa; }
code { background: #f1f2f4; padding: 0 0.2rem; border-radius: 3px; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem;
        font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #d8dde3; padding: 0.3rem 0.6rem; text-align: left;
         vertical-align: top; }
th { background: #eef1f5; cursor: pointer; user-select: none; }
th[aria-sort="ascending"]::after { content: " \\25B2"; font-size: 0.7em; }
th[aria-sort="descending"]::after { content: " \\25BC"; font-size: 0.7em; }
tbody tr:nth-child(even) { background: #fafbfc; }
img { max-width: 100%; height: auto; border: 1px solid #e4e7eb; }
@media print { th { cursor: auto; } main { max-width: none; } }
"""

#: Click a header to sort its table by that column (numbers as numbers).
SCRIPT = """
function cellValue(td) {
  var t = td.textContent.replace(/\\u2212/g, '-').replace(/[,%]|pp/g, '').trim();
  var m = t.match(/^[+-]?\\d+(\\.\\d+)?/);
  return m ? parseFloat(m[0]) : t.toLowerCase();
}
document.querySelectorAll('table').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.title = 'sort by this column';
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = cellValue(a.cells[col]), y = cellValue(b.cells[col]);
        if (typeof x !== typeof y) { x = String(x); y = String(y); }
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def render(text: str, folder: Path, title: str) -> str:
    """The page for markdown ``text`` whose images are relative to ``folder``.

    Raises:
        FileNotFoundError: an image the text refers to is missing.
    """
    import markdown

    # the text holds user-given values (overrides, questions): never raw HTML
    body = markdown.markdown(text.replace("&", "&amp;").replace("<", "&lt;"),
                             extensions=["tables"], output_format="html")

    def embed(match: re.Match) -> str:
        src = html.unescape(match.group(2))
        data = base64.b64encode((folder / src).read_bytes()).decode("ascii")
        return f'{match.group(1)}"data:image/png;base64,{data}"'

    body = re.sub(r'(<img [^>]*?src=)"([^"]+\.png)"', embed, body)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
            f"<body>\n<main>\n{body}\n</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")


def write_html(text: str, folder: Path, path: Path, title: str) -> Path:
    """Write :func:`render`'s page to ``path`` (flushed to disk); returns ``path``."""
    page = render(text, folder, title)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page)
        fh.flush()
        os.fsync(fh.fileno())
    return path
