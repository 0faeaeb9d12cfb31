"""``geoplan check``: the scorecard of a city against a plan's target sheet."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from geoplan._errors import LayerError
from geoplan._outputs_set import check_output_dir, check_output_file
from geoplan.cli.options import (
    AreasOpt,
    BoundaryOpt,
    BuiltUpOpt,
    CompoundsCoordsOpt,
    CompoundsFileOpt,
    CompoundsOpt,
    CrsOpt,
    DistrictOpt,
    ExactAreasOpt,
    FacilitiesModeOpt,
    FacilitiesOpt,
    IncludePrivateOpt,
    LangOpt,
    NameOpt,
    OsmOpt,
    PopulationColumnOpt,
    PopulationOpt,
    QuietOpt,
    ScopeOpt,
    UnitNameOpt,
    UnitsGridOpt,
    UnitsOpt,
    study_from_options,
)
from geoplan.names import Status, basis_label, method_label, method_short, status_label
from geoplan.outputs.formats import ATTRIBUTION, format_measured, format_target
from geoplan.scoring.check import CheckResult

#: console mark and colour of each status (labels from :mod:`geoplan.names`)
STATUS_STYLE: dict[str, tuple[str, str]] = {
    Status.PASS: ("✔", "green"),
    Status.FAIL: ("✘", "red"),
    Status.NO_DATA: ("…", "yellow"),
    Status.NOT_CHECKABLE: ("—", "dim"),
    Status.MEASURED: ("·", "cyan"),
}


def status_text(status: object) -> tuple[str, str]:
    """``("✔ 达标 pass", "green")``: the console text and colour of a status.

    Parameters
    ----------
    status
        A status (:class:`geoplan.names.Status`).

    Returns
    -------
    tuple of str
        ``(text, rich style)``.
    """
    mark, style = STATUS_STYLE.get(str(status), ("", ""))
    text = f"{mark} {status_label(status, 'zh')} {status_label(status, 'en')}".strip()
    return text, style


def method_text(method: object, basis: object = "") -> str:
    """``"步行网络 network"`` and, on a second line, the basis in both languages.

    Parameters
    ----------
    method
        ``buffer`` / ``network`` / ``area``.
    basis
        The basis (empty: none).

    Returns
    -------
    str
        Rich markup.
    """
    m = str(method)
    out = f"{method_label(m, 'zh')} {m}".strip() if m else ""
    if basis:
        out += f"\n[dim]{basis_label(basis, 'zh')} {basis}[/dim]"
    return out


def print_scorecard(card: pd.DataFrame, *, title: str, lang: str = "zh", width: int = 120) -> Table:
    """A rich table of the scorecard, one line per row where ``width`` columns allow.

    Short labels from the vocabulary (:func:`geoplan.names.method_short`); only the indicator's
    name wraps; gaps of shares in percentage points (the column says so); the last column says
    why a row has no figure (or its scope), cut to the width left — the full notes are in the
    CSV and the workbook.

    Parameters
    ----------
    card
        The scorecard (:attr:`CheckResult.scorecard`).
    title
        The table's title.
    lang
        ``zh`` or ``en``.
    width
        Console width (characters).

    Returns
    -------
    rich.table.Table
    """
    zh = lang == "zh"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    wide = width >= 100
    # narrow: the gap and the no-data reason share the last column (a row has one or the other)
    fixed = [12, 7, 11, 10 if wide else 3] + ([8] if wide else [])
    rest = max(24, width - sum(fixed) - 2 * (len(fixed) + 1))
    label_w = min(24, rest - 14) if not wide else min(24, rest // 2)
    last = rest - label_w
    heads: list[tuple[str, str, int, str, bool]] = [
        ("指标", "Indicator", label_w, "left", False),
        ("方法", "Method", fixed[0], "left", True),
        ("现状", "Now", fixed[1], "right", True),
        ("目标", "Target", fixed[2], "right", True),
        ("结果" if wide else "", "Result" if wide else "", fixed[3], "left", True),
    ]
    if wide:
        heads.append(("差距", "Gap", fixed[4], "right", True))
    heads.append(
        ("说明" if wide else "差距·说明", "Note" if wide else "Gap·note", last, "left", True)
    )
    for hz, he, w, just, nowrap in heads:
        table.add_column(
            hz if zh else he,
            justify=just,  # type: ignore[arg-type]
            width=w,
            no_wrap=nowrap,
            overflow="ellipsis" if nowrap else "fold",
        )
    for _, r in card.loc[card["status"] != Status.NOT_CHECKABLE].iterrows():
        unit = str(r["unit"])
        mark, style = STATUS_STYLE.get(str(r["status"]), ("", ""))
        result = f"{mark} {status_label(r['status'], 'zh' if zh else 'en')}" if wide else mark
        cells: list[str | Text] = [
            str(r["label_zh"] if zh else r["label_en"]),
            method_short(r["method"], r["basis"], "zh" if zh else "en"),
            format_measured(r["measured"], r.get("bound"), unit),
            format_target(r["op"], r["target"], unit, lang=lang, short=True),
            Text(result, style=style),
        ]
        gap, note = gap_text(r["gap"], unit, lang), row_note(r, lang)
        cells += [gap, note] if wide else [gap or note]
        table.add_row(*cells)
    table.caption = (
        "差距: 占比为百分点 (shares in percentage points)"
        if zh
        else "Gap: shares in percentage points"
    )
    table.caption_justify = "left"
    return table


def gap_text(gap: object, unit: str, lang: str = "zh") -> str:
    """A gap for the terminal: shares in percentage points (``-22.7``), others in their unit.

    Parameters
    ----------
    gap
        The gap (value − target; NaN: none).
    unit
        The row's unit.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    if not isinstance(gap, float) or math.isnan(gap):
        return ""
    if unit == "share":  # percentage points (the column's caption says so)
        v = 100 * gap
        v = 0.0 if abs(v) < 0.05 else v  # no "-0.0"
        return f"{v:+.1f}"
    v = 0.0 if abs(gap) < 0.005 else gap
    return f"{v:+,.0f}" if unit == "m2" else f"{v:+.2f}"


def row_note(r: pd.Series, lang: str = "zh") -> str:
    """The note column: why a row has no figure, else its scope and "implied by the text".

    Parameters
    ----------
    r
        A scorecard row.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    note = str(r.get("note") or "")
    if str(r["status"]) in (Status.NO_DATA, Status.MEASURED) or note.startswith("at most"):
        return note.removeprefix("no data: ").removeprefix("no data ")
    parts = [str(r.get("scope") or "")]
    if bool(r.get("implied")):
        parts.append("文意推定" if lang == "zh" else "implied by the text")
    return " · ".join(p for p in parts if p and p != "nan")


def scope_text(r: pd.Series) -> str:
    """Scope, year and "implied by the text" of a scorecard row, for the console.

    Parameters
    ----------
    r
        A scorecard row.

    Returns
    -------
    str
        Rich markup.
    """
    parts = [str(r.get("scope") or ""), str(r.get("year") or "")]
    out = " ".join(p for p in parts if p and p != "nan")
    if bool(r.get("implied")):
        out += "\n[dim]文意推定 implied[/dim]"
    return out


def not_checkable_table(card: pd.DataFrame) -> Table | None:
    """Targets map data cannot check, listed compactly (they are not dropped).

    Parameters
    ----------
    card
        The scorecard.

    Returns
    -------
    rich.table.Table or None
        ``None`` when every target is checkable.
    """
    nc = card.loc[card["status"] == Status.NOT_CHECKABLE]
    if nc.empty:
        return None
    table = Table(
        title=f"{len(nc)} 项目标不可由地图数据核查 targets not checkable from map data",
        title_justify="left",
        box=None,
    )
    table.add_column("目标 Target", style="dim")
    table.add_column("值 Value", justify="right", style="dim")
    table.add_column("范围 Scope", style="dim")
    table.add_column("年份 Year", justify="right", style="dim")
    for _, r in nc.iterrows():
        table.add_row(
            f"{r['label_zh']} · {r['label_en']}",
            format_target(r["op"], r["target"], r["unit"]),
            str(r.get("scope") or "—"),
            str(r.get("year") or ""),
        )
    return table


def check(  # numpydoc ignore=PR01
    *,
    osm: OsmOpt = "demo",
    targets: Annotated[
        str,
        typer.Option(
            "--targets",
            "-t",
            metavar="SHEET",
            help="Target sheet 目标表: national, jiyuan-2027, anyang-2023, luoyang-2023, "
            "xinxiang-gxq-2019, zhengzhou-zhongyuan-2019, or a YAML file.",
        ),
    ] = "national",
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Output directory (CSV, JSON, XLSX, GPKG)."),
    ] = Path("maps/check"),
    boundary: BoundaryOpt = None,
    district: DistrictOpt = None,
    crs: CrsOpt = None,
    population: PopulationOpt = None,
    population_column: PopulationColumnOpt = "population",
    built_up: BuiltUpOpt = "osm",
    units: UnitsOpt = None,
    unit_name: UnitNameOpt = None,
    units_grid: UnitsGridOpt = None,
    areas: AreasOpt = None,
    name: NameOpt = None,
    facilities: FacilitiesOpt = None,
    facilities_mode: FacilitiesModeOpt = "auto",
    population_kind: Annotated[
        str,
        typer.Option(
            "--population-kind",
            help="cells (each point/cell is a home), census (街道/社区 polygons spread over "
            "homes by floor area or land), or auto.",
        ),
    ] = "auto",
    include_private: IncludePrivateOpt = False,
    compounds: CompoundsOpt = "gates",
    compounds_file: CompoundsFileOpt = None,
    compounds_coords: CompoundsCoordsOpt = "wgs84",
    exact_areas: ExactAreasOpt = None,
    scope: ScopeOpt = "city",
    landcover: Annotated[
        Path | None,
        typer.Option(
            "--landcover",
            metavar="TIF",
            help="Land-cover (ESA WorldCover classes) or NDVI GeoTIFF → 绿化覆盖率 green cover.",
        ),
    ] = None,
    map_path: Annotated[
        Path | None,
        typer.Option("--map", metavar="HTML", help="Also write an offline map, e.g. maps/x.html."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="DIR",
            help="Also write the 城市体检 report: DIR/<city>_<sheet>_report.docx and .pdf.",
        ),
    ] = None,
    basemap: Annotated[
        str,
        typer.Option("--basemap", help="Map background: none, local, osm, tianditu, amap."),
    ] = "none",
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
) -> None:
    """Score a city against a plan's targets 规划目标核查.

    Both the official buffer method 缓冲区 and walking distance on the street network 步行网络距离.

    Prints the scorecard (indicator, method, measured, target, pass/fail, gap) and writes
    DIR/<city>_<sheet>_scorecard.csv/.json/.xlsx, measures.csv and homes.gpkg (per-home
    distances and coverage, for QGIS).

    Examples
    --------
      geoplan check --osm demo --targets anyang-2023 --out maps/demo --map maps/demo.html

      geoplan check --osm chengdu.osm.pbf --boundary area.geojson -t luoyang-2023 --out out/
    """
    from geoplan.cli.console import console, is_quiet, run_cli_errors
    from geoplan.outputs.check_set import MapOptions, write_check_set

    with run_cli_errors():
        quiet = quiet or is_quiet()
        con = console()
        if not con.is_terminal:
            con.width = 140
        if quiet:
            con.quiet = True
        t0 = time.perf_counter()
        lang = check_lang(lang)
        study = study_from_options(
            osm=osm,
            boundary=boundary,
            district=district,
            crs=crs,
            include_private=include_private,
            population=population,
            population_column=population_column,
            population_kind=population_kind,
            facilities=facilities,
            facilities_mode=facilities_mode,
            built_up=built_up,
            landcover=landcover,
            units=units,
            unit_name=unit_name,
            units_grid=units_grid,
            scope=scope,
            areas=areas,
            name=name,
            compounds=compounds,
            compounds_file=compounds_file,
            compounds_coords=compounds_coords,
            exact_areas=exact_areas,
        )
        study.check_files()
        check_output_dir(out)
        if map_path is not None:
            check_output_file(map_path, flag="--map", suffix=".html")
        city = study.load(progress=None if not quiet else False)
        result = study.check(targets, city=city)
        seconds = {f"load:{k}": v for k, v in city.report.seconds.items()} | result.seconds
        written = write_check_set(
            study,
            city,
            result,
            out=out,
            targets=targets,
            lang=lang,
            report=report,
            map_path=map_path,
            map_options=MapOptions(basemap=basemap),
        )
        seconds |= written.seconds
        print_check(con, result, notes=[*city.report.notes, *result.notes], lang=lang)
        con.print(
            "[dim]seconds: "
            + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items())
            + f"; total {time.perf_counter() - t0:.2f}[/dim]"
        )
        for kind, p in written.paths.items():
            con.print(f"{kind}: {p}")
        con.print(f"[dim]{ATTRIBUTION}[/dim]")


def check_lang(lang: str) -> Literal["zh", "en"]:
    """``--lang``: ``zh`` or ``en``, or a one-line error.

    Parameters
    ----------
    lang
        The ``--lang`` value.

    Returns
    -------
    str
        ``zh`` or ``en``.
    """
    if lang not in ("zh", "en"):
        raise LayerError(f"--lang must be zh or en, not {lang!r}")
    return "en" if lang == "en" else "zh"


def print_check(con: Console, result: CheckResult, *, notes: list[str], lang: str = "zh") -> None:
    """Print a check on ``con`` (quiet with ``-q``): scorecard, not checkable, counts, notes.

    Parameters
    ----------
    con
        The console.
    result
        The check.
    notes
        Notes of the load and the check.
    lang
        ``zh`` or ``en``.
    """
    sheet = result.sheet
    con.print(
        print_scorecard(
            result.scorecard,
            title=f"{result.city_name} · {sheet.name_zh} ({sheet.id}) — 记分卡 scorecard",
            lang=lang,
            width=con.width,
        )
    )
    nc_table = not_checkable_table(result.scorecard)
    if nc_table is not None:
        con.print(nc_table)
    n = result.scorecard["status"]
    con.print(
        f"[green]{(n == Status.PASS).sum()} pass[/green] · "
        f"[red]{(n == Status.FAIL).sum()} fail[/red] · "
        f"[yellow]{(n == Status.NO_DATA).sum()} no data[/yellow] · "
        f"{(n == Status.NOT_CHECKABLE).sum()} not checkable"
        + (
            f" · [cyan]{m} measured, no figure[/cyan]"
            if (m := (n == Status.MEASURED).sum())
            else ""
        )
        + " (rows)"
    )
    card = result.scorecard
    if "bound" in card:  # rows known only as an upper bound: why, and the fix
        bounded = card.loc[card["bound"].notna()].drop_duplicates("target_id")
        for r in bounded.itertuples():
            con.print(f"[dim]note: {r.label_zh} {r.label_en}: {r.note}[/dim]")
    for note in notes:
        con.print(f"[dim]note: {note}[/dim]")


def map_cmd(  # numpydoc ignore=PR01
    *,
    osm: Annotated[
        str,
        typer.Option("--osm", metavar="FILE", help="OSM extract; `demo` = embedded Helsinki."),
    ] = "demo",
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="HTML", help="Map file (default maps/<city>.html)."),
    ] = None,
    targets: Annotated[
        str, typer.Option("--targets", "-t", metavar="SHEET", help="Target sheet for the panel.")
    ] = "national",
    boundary: Annotated[
        Path | None, typer.Option("--boundary", metavar="FILE", help="Study area (vector file).")
    ] = None,
    crs: Annotated[str | None, typer.Option("--crs", metavar="EPSG", help="Metric CRS.")] = None,
    name: NameOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="Labels: zh (中文) or en.")] = "zh",
    basemap: Annotated[
        str,
        typer.Option(
            "--basemap",
            help="none (blank, default), local (--local-tiles-url), osm, tianditu "
            "(--tianditu-key), amap (geometry shifted to GCJ-02).",
        ),
    ] = "none",
    tianditu_key: Annotated[
        str | None, typer.Option("--tianditu-key", help="Tianditu browser key (in the page).")
    ] = None,
    local_tiles_url: Annotated[
        str | None,
        typer.Option(
            "--local-tiles-url", help="Intranet tiles, e.g. http://gis/tiles/{z}/{x}/{y}.png"
        ),
    ] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Link Leaflet from a CDN instead of inlining it.")
    ] = False,
    max_features: Annotated[
        int, typer.Option("--max-features", help="Above this many homes, draw grid cells.")
    ] = 3000,
) -> None:
    """Publish an interactive map 交互地图 that opens offline (Leaflet inlined).

    Boundary, roads by grade, homes by life-circle completeness, facilities, park and bus-stop
    coverage (buffer and network), uncovered residential land, legend and scorecard panel.

    Examples
    --------
      geoplan map --osm demo --out maps/helsinki.html

      geoplan map --osm chengdu.osm.pbf --boundary area.geojson -t anyang-2023 --basemap amap
    """
    from geoplan.cli.console import console, run_cli_errors
    from geoplan.outputs.check_set import MapOptions, write_result_map

    with run_cli_errors():
        lang = check_lang(lang)
        if out is not None:
            check_output_file(out, flag="--out", suffix=".html")
        study = study_from_options(osm=osm, boundary=boundary, crs=crs, name=name)
        city = study.load()
        result = study.check(targets, city=city)
        path = out or Path("maps") / f"{city.name}.html"
        check_output_file(path, flag="--out", suffix=".html")
        options = MapOptions(
            basemap=basemap,
            tianditu_key=tianditu_key,
            local_tiles_url=local_tiles_url,
            offline=not online,
            max_features=max_features,
        )
        p = write_result_map(city, result, path, lang=lang, options=options)
        size = p.stat().st_size / 1e6
        console().print(f"map: {p} ({size:.2f} MB) — {ATTRIBUTION}")


def report_cmd(  # numpydoc ignore=PR01
    *,
    osm: OsmOpt = "demo",
    targets: Annotated[
        str, typer.Option("--targets", "-t", metavar="SHEET", help="Target sheet 目标表.")
    ] = "national",
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Folder of the report and the tables.")
    ] = Path("maps/report"),
    boundary: BoundaryOpt = None,
    district: DistrictOpt = None,
    population: PopulationOpt = None,
    population_column: PopulationColumnOpt = "population",
    built_up: BuiltUpOpt = "osm",
    units: UnitsOpt = None,
    unit_name: UnitNameOpt = None,
    units_grid: UnitsGridOpt = None,
    areas: AreasOpt = None,
    name: NameOpt = None,
    facilities: FacilitiesOpt = None,
    scope: ScopeOpt = "city",
    lang: LangOpt = "zh",
    quiet: QuietOpt = False,
) -> None:
    """Write a 城市体检 chapter: Word (.docx) and PDF, with the check's tables beside them.

    The same check as `geoplan check` (its options), then DIR/<city>_<sheet>_report.docx and
    .pdf: summary of passes and failures, a table per target (buffer vs network, gap), static
    maps (offline), the per-unit ranking when units are given, and a method note.

    Examples
    --------
      geoplan report --osm chengdu.osm.pbf -t anyang-2023 --units-grid 1000 --out out/report

      geoplan report --osm demo --lang en --out out/report_en
    """
    check(
        osm=osm,
        targets=targets,
        out=out,
        boundary=boundary,
        district=district,
        population=population,
        population_column=population_column,
        built_up=built_up,
        units=units,
        unit_name=unit_name,
        units_grid=units_grid,
        areas=areas,
        name=name,
        facilities=facilities,
        scope=scope,
        lang=lang,
        quiet=quiet,
        report=out,
    )
