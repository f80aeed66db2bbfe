"""The pages a student's markdown reaches (the feedback page, formgrader's page of a
submission): made safe after rendering, and without anything fetched from the network.

SanitizeHTML (nbgrader_config.py) cleans a markdown cell's *source* as HTML, but markdown makes
links of its own: `[notes](javascript:...)`, a reference `[r]: JaVaScRiPt:...`, an autolink, a
`text/markdown` output. nbconvert builds its markdown renderer with
`allow_harmful_protocols=True`, so each would be a live `<a href="javascript:...">` one click of a
teaching assistant away from running on the grader's Jupyter server. `markdown2html`, the
markdown filter of both pages (nbgrader_config.py sets it for every HTMLExporter, formgrader's
included), renders with mistune's own URL check on and then cleans the *rendered* HTML with
bleach (`clean`): the tags a rendered notebook uses, no event handler, links to http, https,
mailto and the page's own anchors only, images from those or from `data:image/...`. A pasted
image whose attachment is missing (what copying a cell's text leaves) is drawn as a missing
image, with its alt text; nbconvert would stop the whole page (`InvalidNotebook: missing
attachment`), and with it the feedback and formgrader's view of the answer. The notebook's own
diagrams (`images/*.png` beside it) are put inside the page, so that a feedback page released
alone (nbgrader's release_feedback copies the HTML only) still shows them: only image files
inside the notebook's folder, no link followed.

nbgrader's feedback template loads MathJax from a CDN (`{{ mathjax() }}`, nbconvert's macro),
so a page opened offline, or on a hub that blocks outside scripts, shows the notebooks' LaTeX as
raw `$$...$$`; and a grade page should not run a third party's script. `FeedbackExporter`, the
exporter `nbgrader generate_feedback` uses (nbgrader_config.py), renders every formula of the
markdown cells to MathML when the page is made (latex2mathml; browsers draw MathML themselves)
and replaces the MathJax macro with an empty one (templates/offline/mathjax.html.j2, found
before nbconvert's own by its template name). What cannot be converted stays as its escaped TeX.
"""
import base64
import html
import mimetypes
import os
import re
import stat
from pathlib import Path

import bleach
from bleach import ALLOWED_ATTRIBUTES, ALLOWED_TAGS
from bleach.css_sanitizer import CSSSanitizer
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


# What nbconvert's markdown renderer and its code highlighting write, besides bleach's safe tags
PAGE_TAGS = sorted({*ALLOWED_TAGS, *MATHML_TAGS, "p", "br", "hr", "pre", "code", "div", "span",
                    "h1", "h2", "h3", "h4", "h5", "h6", "img", "table", "thead", "tbody", "tr",
                    "th", "td", "del", "sub", "sup", "dl", "dt", "dd", "input"})
PAGE_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, "*": ["class", "id", "title"],
                   "img": ["src", "alt", "width", "height", "style"], "th": ["align"],
                   "td": ["align"], "input": ["type", "checked", "disabled"],
                   **{tag: MATHML_ATTRIBUTES for tag in MATHML_TAGS}}
PAGE_PROTOCOLS = ["http", "https", "mailto", "data"]
PAGE_CSS = CSSSanitizer(allowed_css_properties=["width", "height", "max-width"])  # images' size
IMAGE_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml)[;,]")


def _allowed(tag, name, value):
    """bleach's attribute filter: the attributes of PAGE_ATTRIBUTES, and a `data:` URL only as
    an image's source, of an image type (an `<img>` runs no script, whatever its type)."""
    if name not in (PAGE_ATTRIBUTES.get(tag, []) + PAGE_ATTRIBUTES["*"]):
        return False
    if name in ("href", "src"):
        uri = re.sub(r"[`\x00-\x20\x7f-\xa0\s]+", "", html.unescape(value)).lower()
        return not uri.startswith("data:") or (
            (tag, name) == ("img", "src") and IMAGE_DATA.match(uri) is not None)
    return True


def clean(rendered):
    """Rendered HTML of a student's markdown, safe to show: nothing in it runs a script."""
    return bleach.clean(rendered, tags=PAGE_TAGS, attributes=_allowed,
                        protocols=PAGE_PROTOCOLS, css_sanitizer=PAGE_CSS, strip=False)


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
    """nbconvert's markdown renderer, with formulas as MathML instead of TeX for MathJax,
    mistune's check of link protocols on, and a missing attachment drawn as a missing image."""

    IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml")

    def __init__(self, **options):
        super().__init__(**{**options, "allow_harmful_protocols": False})

    def _src_to_base64(self, src):
        """An image file inside the notebook's folder as a data URL, else None (left as it
        is): its real path inside the folder's, a regular file, of an image type. nbconvert's
        own check compares the paths as written, which a link inside the folder passes."""
        base = os.path.realpath(self.path)
        path = os.path.join(base, src)
        kind = mimetypes.guess_type(path)[0]
        if kind not in self.IMAGE_TYPES or os.path.commonpath(
                [base, os.path.realpath(path)]) != base:
            return None
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return None
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"

    def image(self, text, url, title=None):
        name = url.removeprefix("attachment:")
        if url.startswith("attachment:") and name not in self.attachments:
            alt = f"{text} (missing attachment: {name})" if text else f"missing attachment: {name}"
            return f'<img alt="{html.escape(alt)}" />'
        return super().image(text, url, title)

    def block_math(self, body):
        return mathml(body, "block") or super().block_math(body)

    def inline_math(self, body):
        return mathml(body, "inline") or super().inline_math(body)

    def latex_environment(self, name, body):
        tex = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return mathml(tex, "block") or super().latex_environment(name, body)


@pass_context  # as HTMLExporter's own: the filter reads the cell from the template's context
def markdown2html(context, source):
    """The markdown filter of the course's pages: `source` as MathML-drawn, cleaned HTML, the
    images beside the notebook inside it. nbconvert's own filter otherwise ("¶" anchors)."""
    cell = context.get("cell", {})
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}),
                              embed_images=bool(path), path=path)
    return clean(MarkdownWithMath(renderer=renderer).render(source))


class FeedbackExporter(HTMLExporter):
    """HTMLExporter for feedback pages: MathML, links that run nothing, no MathJax script, and
    each error leading with its one line (templates/course_feedback, nbgrader's `feedback`
    template with the traceback folded below the message)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # after the configuration, which GenerateFeedback fills with nbgrader's template
        self.template_name = "course_feedback"
        self.extra_template_basedirs = [str(TEMPLATES), *self.extra_template_basedirs]
        self.template_paths = self._template_paths()

    def default_filters(self):
        yield from super().default_filters()
        yield ("markdown2html", markdown2html)

    @default("template_paths")
    def _template_paths(self, prune=True, root_dirs=None):
        # templates/offline first: its mathjax.html.j2 (an empty macro) wins over nbconvert's;
        # nbgrader's template folders last, for `{% extends 'feedback/index.html.j2' %}`
        return [str(TEMPLATES / "offline"), *super()._template_paths(prune, root_dirs),
                *self.extra_template_basedirs]
