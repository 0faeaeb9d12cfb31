"""The chapter as a Word document: A4, a plain 公文-like style, page numbers, numbered captions.

Body text in a serif CJK face (宋体 role: Noto Serif CJK SC), headings in a sans face (黑体 role:
Noto Sans CJK SC), black, no Word theme colours; tables with plain grid lines and a grey header;
page numbers centred in the footer (a PAGE field, "第 X 页").
"""

from __future__ import annotations

from pathlib import Path

from geoplan.outputs.report.content import Chapter, Figure, Heading, Para, TableBlock, heading_text

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _font(run_or_style: object, face: str, size_pt: float, *, bold: bool = False) -> None:
    from docx.shared import Pt, RGBColor

    f = run_or_style.font  # type: ignore[attr-defined]
    f.name = face
    f.size = Pt(size_pt)
    f.bold = bold
    f.color.rgb = RGBColor(0, 0, 0)
    el = run_or_style.element  # type: ignore[attr-defined]
    rpr = el.get_or_add_rPr()
    fonts = rpr.find(_W + "rFonts")
    if fonts is None:
        from docx.oxml import OxmlElement

        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for key in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(_W + key, face)


def _page_number(paragraph: object, lang: str) -> None:
    """``第 {PAGE} 页`` (or ``Page {PAGE}``) as a field Word and LibreOffice update."""
    from docx.oxml import OxmlElement

    def field(code: str) -> None:
        run = paragraph.add_run()  # type: ignore[attr-defined]
        for kind, text in (("begin", None), (None, code), ("end", None)):
            if kind:
                el = OxmlElement("w:fldChar")
                el.set(_W + "fldCharType", kind)
            else:
                el = OxmlElement("w:instrText")
                el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                el.text = text
            run._r.append(el)

    paragraph.add_run("第 " if lang == "zh" else "Page ")  # type: ignore[attr-defined]
    field("PAGE")
    paragraph.add_run(" 页" if lang == "zh" else "")  # type: ignore[attr-defined]


def _table(doc: object, b: TableBlock, number: int, lang: str) -> None:
    """A numbered table: centred caption, grey header row, grid lines, widths to the page."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.shared import Cm, Pt

    cap = doc.add_paragraph(  # type: ignore[attr-defined]
        f"表{number}  {b.caption}" if lang == "zh" else f"Table {number}. {b.caption}",
        style="Caption",
    )
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    tab = doc.add_table(rows=1, cols=len(b.header))  # type: ignore[attr-defined]
    tab.style = "Table Grid"
    tab.alignment = WD_TABLE_ALIGNMENT.CENTER
    total = sum(b.widths)
    for j, h in enumerate(b.header):
        cell = tab.rows[0].cells[j]
        cell.text = h
        shade = OxmlElement("w:shd")
        shade.set(_W + "fill", "E7E6E6")
        cell._tc.get_or_add_tcPr().append(shade)
    for row in b.rows:
        cells = tab.add_row().cells
        for j, v in enumerate(row):
            cells[j].text = v
    for row in tab.rows:
        for j, cell in enumerate(row.cells):
            cell.width = Cm(15.6 * b.widths[j] / total)
            for p in cell.paragraphs:
                for r in p.runs:
                    r.font.size = Pt(10)
    doc.add_paragraph()  # type: ignore[attr-defined]


def write_docx(chapter: Chapter, path: Path, *, serif: str, sans: str) -> Path:
    """Write the chapter to ``path`` (.docx).

    Parameters
    ----------
    chapter
        The chapter's content.
    path
        The .docx to write.
    serif, sans
        Font families of the body text and the headings.

    Returns
    -------
    Path
    """
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    lang = chapter.lang
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)  # A4
    sec.top_margin, sec.bottom_margin = Cm(3.7), Cm(3.5)  # GB/T 9704 公文 margins
    sec.left_margin, sec.right_margin = Cm(2.8), Cm(2.6)
    _font(doc.styles["Normal"], serif, 12)
    doc.styles["Normal"].paragraph_format.line_spacing = 1.35
    for lvl, size in ((1, 16), (2, 14), (3, 12)):
        _font(doc.styles[f"Heading {lvl}"], sans, size, bold=lvl < 3)
    _font(doc.styles["Title"], sans, 20, bold=True)
    _font(doc.styles["Caption"], sans, 10.5)
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer, lang)

    t = doc.add_paragraph(chapter.title, style="Title")
    t.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph(chapter.subtitle)
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    counters = [0, 0, 0]
    n_tab = n_fig = 0
    for b in chapter.blocks:
        if isinstance(b, Heading):
            counters[b.level - 1] += 1
            for k in range(b.level, 3):
                counters[k] = 0
            doc.add_heading(heading_text(b.level, counters[b.level - 1], b.text, lang), b.level)
        elif isinstance(b, Para):
            p = doc.add_paragraph(b.text)
            if b.small:
                for r in p.runs:
                    r.font.size = Pt(10.5)
            else:
                p.paragraph_format.first_line_indent = Pt(24)
        elif isinstance(b, TableBlock):
            n_tab += 1
            _table(doc, b, n_tab, lang)
        elif isinstance(b, Figure):
            n_fig += 1
            doc.add_picture(str(b.path), width=Cm(15.6))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            cap = doc.add_paragraph(
                f"图{n_fig}  {b.caption}" if lang == "zh" else f"Figure {n_fig}. {b.caption}",
                style="Caption",
            )
            cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.save(str(path))
    return path
