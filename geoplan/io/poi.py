"""Facilities from POI exports: AMap / 高德 (GCJ-02) and Baidu / 百度 (BD-09).

Planners check life circles against AMap or Baidu POI exports, which know far more of a Chinese
city than OpenStreetMap. :func:`read_pois` reads CSV, XLSX, JSON or GeoJSON exports: AMap's
six-digit ``typecode`` (or ``type`` "大类;中类;小类"), Baidu's industry tag ("教育培训;小学"), a
``location`` "lng,lat" or lon / lat columns under the usual Chinese and English headers. It
converts the coordinates to WGS84 and assigns life-circle categories with the rules of
``data/poi_categories.yaml`` (which cites the official AMap and Baidu classifications).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputFileError, LayerError
from geoplan.io import coords
from geoplan.io.projection import WGS84
from geoplan.rules import taxonomy as tx
from geoplan.rules.datafile import DATA_DIR, read_yaml

Provider = Literal["amap", "baidu"]
LON = ("lon", "lng", "longitude", "经度", "x", "wgs_lng", "gcj_lng", "bd_lng")
LAT = ("lat", "latitude", "纬度", "y", "wgs_lat", "gcj_lat", "bd_lat")
NAME = ("name", "名称", "poi名称", "title")
CODE = ("typecode", "type_code", "类型编码", "poi类型编码")
TYPE = (
    "type",
    "类型",
    "poi类型",
    "tag",
    "标签",
    "行业",
    "分类",
    "类别",
    "行业类别",
    "行业分类",
    "分类标签",
    "category",
)
#: a Baidu export in two columns: 一级 / 二级 行业分类 (joined into the tag "美食;中餐厅")
LEVEL1 = ("一级行业分类", "一级分类", "行业大类", "一级类别", "大类")
LEVEL2 = ("二级行业分类", "二级分类", "行业小类", "二级类别", "小类")
LOCATION = ("location", "坐标", "经纬度")


@dataclass
class PoiReport:
    """What a POI file held: counts per category, and the codes that map to nothing."""

    path: Path
    provider: Provider
    n_rows: int
    per_category: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)
    #: what names changed (:func:`classify`): "<by code> → <by name>" or "kept …" → names
    by_name: dict[str, list[str]] = field(default_factory=dict)
    #: AMap codes whose lost leading zero was put back (Excel: 050100 → 50100)
    restored_codes: int = 0
    #: mapped POIs inside / outside the study area (set when the POIs join a city)
    inside: int | None = None
    outside: int = 0
    #: POIs listed twice (same name and category within a few metres), counted once
    duplicates: int = 0

    def summary(self) -> str:
        """One line for the check's notes.

        Returns
        -------
        str
        """
        cats = ", ".join(f"{k} {v}" for k, v in sorted(self.per_category.items()))
        top = ", ".join(
            f"{k} ×{v}" for k, v in sorted(self.unmapped.items(), key=lambda t: -t[1])[:5]
        )
        line = (
            f"{self.path.name} ({self.provider}): {self.n_rows} POIs → {cats or 'no category'}; "
            f"{sum(self.unmapped.values())} mapped to no category" + (f" ({top} …)" if top else "")
        )
        if self.restored_codes:
            line += f"; {self.restored_codes} typecodes had lost their leading 0 (restored)"
        if self.duplicates:
            line += f"; {self.duplicates} listed twice (same name and place), counted once"
        if self.inside is not None and self.outside:
            line += f"; {self.outside} outside the study area (not used), {self.inside} inside"
        if self.by_name:
            line += "; by name: " + "; ".join(
                f"{k} ×{len(v)} (e.g. {'、'.join(v[:2])})"
                for k, v in sorted(self.by_name.items(), key=lambda t: -len(t[1]))
            )
        return line


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    return read_yaml(DATA_DIR / "poi_categories.yaml")


def _col(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    low = {str(c).strip().lower(): c for c in df.columns}
    for n in names:
        if n in low:
            return str(low[n])
    return None


def _read_table(p: Path) -> pd.DataFrame:
    suf = p.suffix.lower()
    try:
        if suf in (".xlsx", ".xls"):
            return _below_title_rows(pd.read_excel(p, dtype=str, header=None))
        if suf == ".csv":
            for enc in ("utf-8-sig", "gbk"):
                try:
                    return pd.read_csv(p, dtype=str, encoding=enc)
                except UnicodeDecodeError:
                    continue
            raise InputFileError(f"{p}: cannot decode the CSV (UTF-8 or GBK); save it as UTF-8")
        if suf == ".geojson":
            g = gpd.read_file(p)
            df = pd.DataFrame(g.drop(columns="geometry"))
            # AOIs (an AMap 小区 / school polygon) stand at a point inside them
            pts = shapely.point_on_surface(g.geometry.values)
            df["lon"] = shapely.get_x(pts).astype(str)
            df["lat"] = shapely.get_y(pts).astype(str)
            return df.astype(str)
        if suf == ".json":
            doc = json.loads(_decode(p.read_bytes(), p))
            items = doc.get("pois", doc.get("results", doc)) if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                raise InputFileError(f"{p}: expected a list of POIs (or {{pois: [...]}})")
            return pd.json_normalize(items).astype(str)
    except (ValueError, OSError) as exc:
        raise InputFileError(f"{p}: cannot read the POI export ({exc})") from exc
    raise InputFileError(f"{p}: POI exports are .csv, .xlsx, .json or .geojson files")


def _decode(raw: bytes, p: Path) -> str:
    """Text of a file saved as UTF-8 (with or without a BOM) or GBK (Chinese Windows)."""
    for enc in ("utf-8-sig", "gbk"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{p}: cannot decode the file (UTF-8 or GBK); save it as UTF-8")


def _below_title_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """A sheet read without a header, cut below its header row.

    The header is the first of the top rows naming a known column: a title such as
    "高德POI导出 2024-05" may stand above it.
    """
    known = {*NAME, *CODE, *TYPE, *LOCATION, *LON, *LAT}
    for i in range(min(len(raw), 10)):
        cells = {str(v).strip().lower() for v in raw.iloc[i] if isinstance(v, str)}
        if cells & known:
            df = raw.iloc[i + 1 :].reset_index(drop=True)
            df.columns = [str(v).strip() for v in raw.iloc[i]]
            return df.dropna(how="all")
    df = raw.iloc[1:].reset_index(drop=True)
    df.columns = [str(v) for v in raw.iloc[0]] if len(raw) else []
    return df


def _plain_headers(df: pd.DataFrame) -> pd.DataFrame:
    """Headers as exports write them, read as geoplan's.

    ``经度(BD09)`` / ``百度经度`` → ``经度`` (when no plain longitude column exists); a Baidu
    industry in two columns (一级 / 二级行业分类) → one ``tag`` "一级;二级".
    """
    rename: dict[str, str] = {}
    for key, names in (("经度", LON), ("纬度", LAT)):
        if _col(df, names) is not None:
            continue
        for c in df.columns:
            low = str(c).strip().lower()
            base = re.split(r"[(（\s]", low)[0]
            if base in names or key in low:
                rename[str(c)] = key
                break
    out = df.rename(columns=rename) if rename else df
    l1, l2 = _col(out, LEVEL1), _col(out, LEVEL2)
    if _col(out, TYPE) is None and l1 is not None and l2 is not None:
        tag = out[l1].fillna("").astype(str) + ";" + out[l2].fillna("").astype(str)
        out = out.assign(tag=tag)
    return out


def _provider(df: pd.DataFrame, p: Path) -> Provider:
    if _col(df, CODE) is not None:
        return "amap"
    t = _col(df, TYPE)
    if t is not None and df[t].astype(str).str.contains(";").any():
        parts = df[t].astype(str).str.count(";").max()
        return "amap" if parts >= 2 else "baidu"
    raise LayerError(
        f"{p}: neither an AMap typecode/type column nor a Baidu tag column; columns are "
        f"{list(df.columns)}"
    )


def _lonlat(df: pd.DataFrame, p: Path) -> tuple[np.ndarray, np.ndarray]:
    loc = _col(df, LOCATION)
    if loc is not None:
        parts = df[loc].astype(str).str.split(",", n=1, expand=True)
        lon_s, lat_s = parts[0], parts[1] if parts.shape[1] > 1 else None
    else:
        lo, la = _col(df, LON), _col(df, LAT)
        if lo is None or la is None:
            raise LayerError(
                f"{p}: no coordinates: give a 'location' (\"lng,lat\") column or lon/lat "
                "(经度/纬度) columns"
            )
        lon_s, lat_s = df[lo], df[la]
    if lat_s is None:
        raise LayerError(f"{p}: 'location' must be \"lng,lat\"")
    lon = pd.to_numeric(lon_s, errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(lat_s, errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"{p}: row {i + 2}: coordinates are not numbers ({bad.sum()} such rows); fix the export"
        )
    if (np.abs(lat) > 90).any():
        raise LayerError(f"{p}: latitudes beyond ±90°: 经纬度是否颠倒? put longitude first")
    return lon, lat


def restore_typecodes(codes: pd.Series) -> tuple[pd.Series, int]:
    """AMap typecodes with the leading zero Excel drops put back (``50100`` → ``050100``).

    Every AMap code has six digits (amap_poi_types.csv); classes 01–09 begin with a zero that a
    spreadsheet reading the column as numbers loses (and may add ``.0``). Each code of ``a|b`` is
    restored. Returns the codes and how many were restored.

    Parameters
    ----------
    codes
        Typecodes as read (text or numbers).

    Returns
    -------
    codes : Series
        Six-digit text codes.
    n_restored : int
    """
    text = codes.fillna("").astype(str).str.strip()

    def fix(code: str) -> str:
        parts = []
        for part in code.split("|"):
            part = part.strip()
            if part.endswith(".0") and part[:-2].isdigit():
                part = part[:-2]
            parts.append(part.zfill(6) if part.isdigit() and len(part) == 5 else part)
        return "|".join(parts)

    fixed = text.map(fix)
    return fixed.where(text != "", codes), int((fixed != text).sum())


def categorise(names: pd.Series, codes: pd.Series, provider: Provider) -> pd.Series:
    """Life-circle category of each POI ("" when no rule matches); see :func:`classify`.

    Parameters
    ----------
    names
        POI names.
    codes
        AMap typecodes or Baidu tags.
    provider
        ``amap`` or ``baidu``.

    Returns
    -------
    Series
        Category key per POI (``""`` for none).
    """
    return classify(names, codes, provider)[0]


def classify(
    names: pd.Series, codes: pd.Series, provider: Provider
) -> tuple[pd.Series, dict[str, list[str]]]:
    """Life-circle category of each POI, and what the names changed.

    The type code (AMap ``typecode``, Baidu tag) decides first (longest matching rule). A name
    rule may then refine a POI only within its own code's class (``name_classes`` of
    ``poi_categories.yaml``: 中学 → 初中, 医疗 → 社区卫生服务中心) or classify a POI without a
    code; it never moves a POI across classes (a tea shop named after a school stays a shop).

    Parameters
    ----------
    names, codes
        The POIs' names and type codes (same index).
    provider
        ``amap`` (six-digit codes; the first of ``a|b`` decides) or ``baidu`` (``一级;二级``).

    Returns
    -------
    categories, changes
        ``""`` where no rule matches; ``changes`` maps ``"<by code> → <by name>"`` (reclassified)
        and ``"kept <by code>, name says <cat>"`` (a name refused across classes) to the names
        concerned, for the notes.
    """
    rules = _rules()
    out = pd.Series("", index=names.index, dtype=object)
    codes = codes.fillna("").astype(str).str.strip()
    if provider == "amap":  # several codes "141203|141204": the first one decides
        first = codes.str.split("|").str[0].str.strip()
        for prefix in sorted(rules["amap"], key=len, reverse=True):
            hit = (out == "") & first.str.startswith(str(prefix))
            out[hit] = rules["amap"][prefix]
    else:
        first = codes
        for tag in sorted(rules["baidu"], key=len, reverse=True):
            hit = (out == "") & codes.str.startswith(str(tag))
            out[hit] = rules["baidu"][tag]
    nm = names.fillna("").astype(str)
    no_code = (first == "") | (first.str.lower() == "nan")
    changes: dict[str, list[str]] = {}
    by_code = out.copy()
    for cat, words in rules["names"].items():
        said = nm.str.contains("|".join(map(str, words)), regex=True) & (by_code != cat)
        classes = rules.get("name_classes", {}).get(cat, {}).get(provider, [])
        inside = first.str.startswith(tuple(str(c) for c in classes)) if classes else False
        allowed = said & (no_code | inside)
        refused = said & ~allowed
        out[allowed] = cat
        was, code = by_code.to_numpy(dtype=str), first.to_numpy(dtype=str)
        for i in map(int, np.flatnonzero(allowed.to_numpy())):
            key = f"{was[i] or 'no category'} → {cat}"
            changes.setdefault(key, []).append(str(nm.iat[i]))
        for i in map(int, np.flatnonzero(refused.to_numpy())):
            key = f"kept {was[i] or 'no category'} ({code[i]}), name says {cat}"
            changes.setdefault(key, []).append(str(nm.iat[i]))
    # the taxonomy's exclusions by name hold for POIs too (口腔诊所, 彩票 kiosks, 电子市场 …)
    cats = tx.categories()
    for i in map(int, np.flatnonzero((out != "").to_numpy())):
        c = cats.get(str(out.iat[i]))
        if c is not None and tx.any_match(c.exclude, {"name": str(nm.iat[i])}):
            out.iat[i] = ""
    return out, changes


def _with_smaller_sports_classes(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A sports ground meets its own size class and every smaller one (one row per class)."""
    sp = tx.sports_grounds()
    order = [c for c, _ in sp.classes]
    extra = []
    for cls in order[:-1]:
        rows = gdf.loc[gdf["category"] == cls]
        for smaller in order[order.index(cls) + 1 :]:
            extra.append(rows.assign(category=smaller))
    if not extra:
        return gdf
    return gpd.GeoDataFrame(pd.concat([gdf, *extra], ignore_index=True), crs=gdf.crs)


def read_pois(path: str | Path) -> tuple[gpd.GeoDataFrame, PoiReport]:
    """POIs of an AMap or Baidu export as facilities (WGS84) and a report.

    Parameters
    ----------
    path
        The export: CSV or Excel with name, typecode / tag and coordinates.

    Returns
    -------
    GeoDataFrame, PoiReport
        Columns ``name``, ``category`` (life-circle category), ``source_code``; points in
        EPSG:4326 (converted from GCJ-02 for AMap, BD-09 for Baidu). POIs that map to no category
        are left out and counted in the report.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: POI export not found; pass the AMap / Baidu export file")
    df = _read_table(p)
    if df.empty:
        raise LayerError(f"{p}: the POI export has no rows")
    df = _plain_headers(df)
    provider = _provider(df, p)
    lon, lat = _lonlat(df, p)
    if provider == "amap":
        lon, lat = coords.gcj02_to_wgs84(lon, lat)
    else:
        lon, lat = coords.bd09_to_wgs84(lon, lat)
    name_col = _col(df, NAME)
    names = df[name_col] if name_col else pd.Series("", index=df.index)
    code_col = _col(df, CODE) if provider == "amap" else None
    codes = df[code_col] if code_col else df[_col(df, TYPE) or df.columns[0]]
    restored = 0
    if provider == "amap":
        codes, restored = restore_typecodes(codes)
    cat, changes = classify(names, codes, provider)
    mapped = (cat != "").to_numpy()
    report = PoiReport(p, provider, len(df), by_name=changes, restored_codes=restored)
    report.per_category = {str(k): int(v) for k, v in cat[mapped].value_counts().items()}
    report.unmapped = {str(k): int(v) for k, v in codes[~mapped].astype(str).value_counts().items()}
    gdf = gpd.GeoDataFrame(
        {
            "name": names[mapped].astype(str).to_numpy(),
            "category": cat[mapped].to_numpy(),
            "source_code": codes[mapped].astype(str).to_numpy(),
        },
        geometry=gpd.points_from_xy(np.asarray(lon)[mapped], np.asarray(lat)[mapped]),
        crs=WGS84,
    )
    return _with_smaller_sports_classes(gdf), report
