"""The feedback page without anything fetched from the network.

nbgrader's feedback template loads MathJax from a CDN (`{{ mathjax() }}`, nbconvert's macro),
so a page opened offline, or on a hub that blocks outside scripts, shows the notebooks' LaTeX as
raw `$$...$$`; and a grade page should not run a third party's script. `FeedbackExporter`, the
exporter `nbgrader generate_feedback` uses (nbgrader_config.py), renders every formula of the
markdown cells to MathML when the page is made (latex2mathml; browsers draw MathML themselves)
and replaces the MathJax macro with an empty one (templates/offline/mathjax.html.j2, found
before nbconvert's own by its template name). What cannot be converted stays as its escaped TeX.
"""
import html
from pathlib import Path

import bleach
from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets import default

TEMPLATES = Path(__file__).resolve().parent / "templates"
# what latex2mathml writes: MathML presentation elements and their attributes, nothing else
MATHML_TAGS = ["math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup",
               "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable",
               "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "merror"]
MATHML_ATTRIBUTES = ["xmlns", "display", "stretchy", "fence", "separator", "mathvariant",
                     "lspace", "rspace", "width", "height", "depth", "linethickness", "columnalign",
                     "columnspacing", "rowspacing", "displaystyle", "scriptlevel", "accent",
                     "accentunder", "movablelimits", "minsize", "maxsize", "notation", "form"]


def mathml(tex, display):
    """`tex` as a MathML element (display "inline" or "block"), or None where latex2mathml cannot
    read it. The markdown was sanitized before (SanitizeHTML escapes `<` as `&lt;`), so the TeX
    is unescaped first; the MathML is sanitized again, to MathML's elements only."""
    try:
        found = convert(html.unescape(tex), display=display)
    except Exception:  # latex2mathml raises many kinds on TeX it does not know
        return None
    return bleach.clean(found, tags=MATHML_TAGS, attributes=MATHML_ATTRIBUTES, strip=True)


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with formulas as MathML instead of TeX for MathJax."""

    def block_math(self, body):
        return mathml(body, "block") or super().block_math(body)

    def inline_math(self, body):
        return mathml(body, "inline") or super().inline_math(body)

    def latex_environment(self, name, body):
        tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return mathml(tex, "block") or super().latex_environment(name, body)


class FeedbackExporter(HTMLExporter):
    """HTMLExporter for feedback pages: MathML, and no MathJax script."""

    @pass_context  # as HTMLExporter's own: the filter reads the cell from the template's context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)

    @default("template_paths")
    def _template_paths(self, prune=True, root_dirs=None):
        # templates/offline first: its mathjax.html.j2 (an empty macro) wins over nbconvert's
        return [str(TEMPLATES / "offline"), *super()._template_paths(prune, root_dirs)]
