"""The chapter as a PDF: A4 pages laid out line by line (matplotlib, fonts embedded, offline).

Text wraps by its printed width (a 汉字 takes a full em, Latin letters about half), tables wrap
each cell and grow their rows (nothing is cut with "…"), repeat their header on a new page and
are numbered like the figures; every page carries its number and the OpenStreetMap credit.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from geoplan.outputs.formats import ATTRIBUTION
from geoplan.outputs.report.content import Chapter, Figure, Heading, Para, TableBlock, heading_text

A4_IN = (8.27, 11.69)
LEFT, RIGHT, TOP, BOTTOM = 0.11, 0.90, 0.93, 0.08
PT_PER_FIG_X = A4_IN[0] * 72  # points across the page
PT_PER_FIG_Y = A4_IN[1] * 72


def _em(ch: str) -> float:
    """Printed width of a character in ems (CJK and full-width: 1, others about 0.55)."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.55


def wrap(text: str, width_pt: float, size_pt: float) -> list[str]:
    """Lines of ``text`` no wider than ``width_pt`` at ``size_pt`` (breaks Latin at spaces).

    Parameters
    ----------
    text
        The text (line breaks kept).
    width_pt, size_pt
        The width available and the font size (points).

    Returns
    -------
    list of str
    """
    lines: list[str] = []
    for para in str(text).split("\n"):
        line, w, last_space = "", 0.0, -1
        for ch in para:
            cw = _em(ch) * size_pt
            if w + cw > width_pt and line:
                if ch != " " and last_space > 0 and _em(ch) < 1:
                    lines.append(line[:last_space])
                    line = line[last_space + 1 :]
                else:
                    lines.append(line)
                    line = ""
                w = sum(_em(c) * size_pt for c in line)
                last_space = -1
                if ch == " " and not line:
                    continue
            line += ch
            w += cw
            if ch == " ":
                last_space = len(line) - 1
        lines.append(line)
    return lines


class _Pages:
    def __init__(self, pdf: Any, chapter: Chapter, serif: str, sans: str) -> None:
        self.pdf, self.lang, self.serif, self.sans = pdf, chapter.lang, serif, sans
        self.fig: Any = None
        self.n = 0
        self.y = TOP

    def new_page(self) -> None:
        import matplotlib.pyplot as plt

        self.close()
        self.fig = plt.figure(figsize=A4_IN)
        self.n += 1
        self.y = TOP

    def close(self) -> None:
        import matplotlib.pyplot as plt

        if self.fig is None:
            return
        number = f"第 {self.n} 页" if self.lang == "zh" else f"Page {self.n}"
        self.fig.text(0.5, 0.045, number, ha="center", fontsize=9, family=self.serif)
        self.fig.text(0.5, 0.028, ATTRIBUTION, ha="center", fontsize=6.5, color="#555")
        self.pdf.savefig(self.fig)
        plt.close(self.fig)
        self.fig = None

    def need(self, h: float) -> None:
        if self.fig is None or self.y - h < BOTTOM:
            self.new_page()

    def lines(
        self,
        text: str,
        size: float,
        *,
        sans: bool = False,
        indent: float = 0.0,
        center: bool = False,
    ) -> None:
        width = (RIGHT - LEFT - indent) * PT_PER_FIG_X
        step = size * 1.55 / PT_PER_FIG_Y
        for line in wrap(text, width, size):
            self.need(step)
            x = 0.5 if center else LEFT + indent
            self.fig.text(
                x,
                self.y - step * 0.8,
                line,
                fontsize=size,
                family=self.sans if sans else self.serif,
                weight="bold" if sans else "normal",
                ha="center" if center else "left",
            )
            self.y -= step

    def gap(self, pt: float) -> None:
        self.y -= pt / PT_PER_FIG_Y

    def table(self, b: TableBlock, number: int) -> None:
        import matplotlib.patches as mpatches

        size = 8.0
        step = size * 1.45 / PT_PER_FIG_Y
        total = sum(b.widths)
        widths = [(RIGHT - LEFT) * w / total for w in b.widths]
        pad = 3 / PT_PER_FIG_X
        cap = f"表{number}  {b.caption}" if self.lang == "zh" else f"Table {number}. {b.caption}"

        def cells(row: Any) -> list[list[str]]:
            return [
                wrap(str(v), (w - 2 * pad) * PT_PER_FIG_X, size)
                for v, w in zip(row, widths, strict=True)
            ]

        def draw(row: Any, *, header: bool) -> None:
            wrapped = cells(row)
            h = max(len(c) for c in wrapped) * step + 2 * pad
            self.need(h)
            x = LEFT
            for c, w in zip(wrapped, widths, strict=True):
                self.fig.add_artist(
                    mpatches.Rectangle(
                        (x, self.y - h),
                        w,
                        h,
                        transform=self.fig.transFigure,
                        facecolor="#e7e6e6" if header else "white",
                        edgecolor="black",
                        lw=0.5,
                    )
                )
                for k, line in enumerate(c):
                    self.fig.text(
                        x + pad,
                        self.y - pad - (k + 0.8) * step,
                        line,
                        fontsize=size,
                        family=self.sans if header else self.serif,
                    )
                x += w
            self.y -= h

        self.need(3 * step)
        self.lines(cap, 9.5, sans=True, center=True)
        self.gap(2)
        first_page = self.n
        draw(b.header, header=True)
        for row in b.rows:
            before = self.n
            wrapped_h = max(len(c) for c in cells(row)) * step + 2 * pad
            if self.y - wrapped_h < BOTTOM:
                self.new_page()
            if self.n != before or (self.n != first_page and self.y == TOP):
                draw(b.header, header=True)  # the header again on a new page
            draw(row, header=False)
        self.gap(10)

    def figure_height(self, b: Figure) -> float:
        """Height (page fraction) a figure and its caption take.

        Parameters
        ----------
        b
            The figure.

        Returns
        -------
        float
        """
        import matplotlib.image as mpimg

        img = mpimg.imread(str(b.path))
        w = RIGHT - LEFT
        return (
            w * img.shape[0] / img.shape[1] * A4_IN[0] / A4_IN[1] + 2.5 * 9.5 * 1.55 / PT_PER_FIG_Y
        )

    def figure(self, b: Figure, number: int) -> None:
        import matplotlib.image as mpimg

        img = mpimg.imread(str(b.path))
        w = RIGHT - LEFT
        h = w * img.shape[0] / img.shape[1] * A4_IN[0] / A4_IN[1]
        cap_h = 2.5 * 9.5 * 1.55 / PT_PER_FIG_Y
        self.need(h + cap_h)
        ax = self.fig.add_axes((LEFT, self.y - h, w, h))
        ax.imshow(img)
        ax.set_axis_off()
        self.y -= h + 4 / PT_PER_FIG_Y
        cap = f"图{number}  {b.caption}" if self.lang == "zh" else f"Figure {number}. {b.caption}"
        self.lines(cap, 9.5, sans=True, center=True)
        self.gap(8)


def write_pdf(chapter: Chapter, path: Path, *, serif: str, sans: str) -> Path:
    """Write the chapter to ``path`` (.pdf, A4).

    Parameters
    ----------
    chapter
        The chapter's content.
    path
        The .pdf to write.
    serif, sans
        Font families of the body text and the headings.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        pages = _Pages(pdf, chapter, serif, sans)
        pages.new_page()
        pages.gap(40)
        pages.lines(chapter.title, 18, sans=True, center=True)
        pages.gap(6)
        pages.lines(chapter.subtitle, 10.5, center=True)
        pages.gap(18)
        counters = [0, 0, 0]
        n_tab = n_fig = 0
        blocks = chapter.blocks
        for i, b in enumerate(blocks):
            if isinstance(b, Heading):
                counters[b.level - 1] += 1
                for k in range(b.level, 3):
                    counters[k] = 0
                size = {1: 14.0, 2: 12.0, 3: 11.0}[b.level]
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                # never a heading alone at a page foot: keep it with what follows
                keep = pages.figure_height(after) if isinstance(after, Figure) else 0.0
                pages.need(4 * size * 1.55 / PT_PER_FIG_Y + keep)
                pages.gap(6)
                text = heading_text(b.level, counters[b.level - 1], b.text, chapter.lang)
                pages.lines(text, size, sans=True)
                pages.gap(3)
            elif isinstance(b, Para):
                pages.lines(b.text, 9.0 if b.small else 10.5)
                pages.gap(4)
            elif isinstance(b, TableBlock):
                n_tab += 1
                pages.table(b, n_tab)
            elif isinstance(b, Figure):
                n_fig += 1
                pages.figure(b, n_fig)
        pages.close()
    return path
