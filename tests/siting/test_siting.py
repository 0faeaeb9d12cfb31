"""Siting (geoplan.siting, ``geoplan suggest``) on real Chengdu data.

Independent checks: each candidate's reach by a networkx search on the split graph
(tests/_reference.py) and by per-feature shapely buffers; the optimum by brute force over every
subset of a small real instance; the suggested scenario measured by ``geoplan run`` (the check's
indicators) and by a geopandas overlay.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from _reference import attachment_rows, buffer_cover_share, edges_of, reference_distances
from conftest import chengdu_clip_polygon
from typer.testing import CliRunner

import geoplan
from geoplan.city.homes import homes_from_city
from geoplan.cli import app
from geoplan.network.access import attach_points, facility_sources, reach_pairs
from geoplan.siting import candidates as cd
from geoplan.siting import problem as pb
from geoplan.siting import spec_of, suggest_sites
from geoplan.siting.solve import exact_max_cover, exact_min_sites, greedy

runner = CliRunner()


def _few_candidates(city: geoplan.City, n: int, spacing_m: float = 150.0) -> np.ndarray:
    pts = cd.street_candidates(city, spacing_m=spacing_m).geometry.values
    step = max(1, len(pts) // n)
    return np.asarray(pts[::step][:n], dtype=object)


def test_reach_pairs_match_networkx_per_candidate(chengdu_clip: geoplan.City) -> None:
    """Every candidate's reach (homes within 500 m) equals a networkx search from it alone."""
    net = chengdu_clip.network
    homes = homes_from_city(chengdu_clip)
    hatt = attach_points(net, np.asarray(homes.geometry.values, dtype=object))
    cand = _few_candidates(chengdu_clip, 40, spacing_m=100)
    src = facility_sources(net, cand)
    own, tgt, dist = reach_pairs(net, hatt, src, limit_m=500.0)
    hrows, _ = attachment_rows(hatt)
    edges = edges_of(net)
    checked = 0
    for j in range(cand.size):
        mine = src.owner == j
        one = type(src)(*(getattr(src, f)[mine] for f in ("edge", "t0", "t1", "offset_m", "owner")))
        _, srows = attachment_rows(one)
        ref = reference_distances(edges, hrows, srows, cutoff_m=500.0)
        got = np.full(len(hatt), np.inf)
        got[tgt[own == j]] = dist[own == j]
        fin = np.isfinite(ref)
        assert (np.isfinite(got) == fin).sum() >= len(ref) - 1  # at most a tie at the limit
        both = fin & np.isfinite(got)
        np.testing.assert_allclose(got[both], ref[both], atol=1e-6)
        checked += int(fin.sum())
    assert checked > 100


def test_polygon_candidates_reach_like_the_engine(chengdu_clip: geoplan.City) -> None:
    """A park plot's reach = the shared engine's nearest distance to that plot alone."""
    from geoplan.network.access import nearest_distance_m

    net = chengdu_clip.network
    plots = cd.park_plot_candidates(chengdu_clip, min_area_m2=400, spacing_m=400).geometry.values
    plots = np.asarray(plots[:6], dtype=object)
    assert plots.size == 6
    homes = np.asarray(homes_from_city(chengdu_clip).geometry.values, dtype=object)
    hatt = attach_points(net, homes)
    own, tgt, dist = reach_pairs(net, hatt, facility_sources(net, plots), limit_m=300.0)
    for j in range(plots.size):
        d = nearest_distance_m(net, hatt, facility_sources(net, plots[j : j + 1]), limit_m=300.0)
        got = np.full(len(hatt), np.inf)
        got[tgt[own == j]] = dist[own == j]
        np.testing.assert_allclose(got, d, atol=1e-9)


def test_generated_candidates_respect_streets_and_land(chengdu_clip: geoplan.City) -> None:
    city = chengdu_clip
    pts, edges, _ = cd.street_points(city, spacing_m=50)
    grades = cd._edge_grades(city)[edges]
    assert set(grades) <= set(cd.STREET_GRADES)
    assert shapely.contains(city.boundary_polygon, pts).all()
    # every edge of a street grade inside the area got points about every 50 m
    assert len(pts) > 0.8 * sum(
        shapely.length(shapely.intersection(city.network.edge_geometry[e], city.boundary_polygon))
        / 50
        for e in np.unique(edges)
    )
    plots = cd.park_plot_candidates(city, min_area_m2=400, spacing_m=100).geometry.values
    assert len(plots) > 20
    assert (shapely.area(plots) >= 400).all()
    for blocker in (city.network.edge_geometry, city.buildings.geometry.values):
        tree = shapely.STRtree(np.asarray(blocker, dtype=object))
        assert tree.query(plots, predicate="intersects")[0].size == 0


def _brute_min(A: np.ndarray, w: np.ndarray, need: float, kmax: int) -> int | None:
    """Fewest candidates covering ``need`` weight, by trying every subset of each size."""
    for k in range(0, kmax + 1):
        for comb in itertools.combinations(range(A.shape[0]), k):
            cov = A[list(comb)].any(axis=0) if comb else np.zeros(A.shape[1], bool)
            if w[cov].sum() >= need - 1e-9:
                return k
    return None


def _brute_max(A: np.ndarray, w: np.ndarray, p: int) -> float:
    best = 0.0
    for comb in itertools.combinations(range(A.shape[0]), p):
        best = max(best, float(w[A[list(comb)].any(axis=0)].sum()))
    return best


def test_greedy_and_exact_against_brute_force(chengdu_clip: geoplan.City) -> None:
    """On a real instance (14 street candidates, the clip's homes, 300 m buffers by hand)."""
    homes = homes_from_city(chengdu_clip)
    cand = _few_candidates(chengdu_clip, 14, spacing_m=200)
    # reach by hand: per-candidate GeoSeries buffer and a plain point-in-polygon loop
    bufs = gpd.GeoSeries(cand, crs=chengdu_clip.crs).buffer(300, quad_segs=16)
    hp = list(homes.geometry.values)
    A = np.array([[b.intersects(p) for p in hp] for b in bufs], dtype=bool)
    w = homes["area_m2"].to_numpy(dtype=float)
    assert ((pb.buffer_matrix(cand, 300, np.asarray(hp, dtype=object)).toarray() > 0) == A).all()
    As = sp.csr_matrix(A.astype(float))
    reach = w[A.any(axis=0)].sum()
    for share in (0.5, 0.8, 1.0):
        need = share * reach
        opt = _brute_min(A, w, need, kmax=A.shape[0])
        g = greedy(As, w, need=need)
        ex = exact_min_sites(As, w, need=need)
        assert ex.optimal
        assert ex.chosen.size == opt
        assert g.chosen.size >= opt
        assert w[A[g.chosen].any(axis=0)].sum() >= need - 1e-6
        assert w[A[ex.chosen].any(axis=0)].sum() >= need - 1e-6
    for p in (1, 2, 3):
        mx = exact_max_cover(As, w, p=p)
        assert mx.covered_weight == pytest.approx(_brute_max(A, w, p), rel=1e-9)
        # greedy's first p sites: at least 1 - 1/e of the optimum (Nemhauser et al. 1978)
        gp = greedy(As, w, max_sites=p)
        assert gp.covered_weight >= (1 - 1 / np.e) * mx.covered_weight - 1e-6


def test_greedy_picks_the_largest_gain_first() -> None:
    A = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 0, 0]], dtype=float))
    g = greedy(A, np.array([1.0, 1.0, 1.0, 5.0]))
    assert g.chosen.tolist() == [1, 0]
    assert g.gains.tolist() == [7.0, 1.0]


def _boundary_file(tmp_path: Path) -> Path:
    p = tmp_path / "clip.geojson"
    gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()], crs=4326).to_file(p, driver="GeoJSON")
    return p


def _measure(run_dir: Path, measure: str, method: str, basis: str) -> tuple[float, float]:
    (f,) = run_dir.glob("*_measures.csv")
    m = pd.read_csv(f)
    row = m[(m.measure == measure) & (m.method == method) & (m.basis == basis)].iloc[0]
    return float(row.value_baseline), float(row.value_plan)


@pytest.mark.parametrize(
    ("args", "measure", "method"),
    [
        (
            # homes of the clip whose nearest walkable way is an expressway ramp (trunk_link)
            # are reached only from candidates on every walkable way
            [
                "-i",
                "bus_stop_coverage",
                "--radius",
                "500",
                "--method",
                "network",
                "--candidate-roads",
                "all",
                "--basis",
                "residential_area",
                "--target",
                "1",
            ],
            "bus_cov_500",
            "network",
        ),
        (
            [
                "-i",
                "park_coverage",
                "--green-kind",
                "green",
                "--radius",
                "300",
                "--method",
                "buffer",
            ],
            "green_300",
            "buffer",
        ),
    ],
)
def test_suggested_scenario_reaches_the_target_when_run(
    chengdu_pbf: Path, tmp_path: Path, args: list[str], measure: str, method: str
) -> None:
    """`geoplan suggest` → `geoplan run` on its scenario: the plan measures what was promised."""
    bnd = _boundary_file(tmp_path)
    out = tmp_path / "s"
    res = runner.invoke(
        app,
        [
            "suggest",
            "--osm",
            str(chengdu_pbf),
            "--boundary",
            str(bnd),
            *args,
            "--out",
            str(out),
            "--compare",
        ],
    )
    assert res.exit_code == 0, res.output
    (summary_file,) = out.glob("*_summary.json")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    assert summary["reached"], summary["message"]
    assert summary["optimal_sites"] <= summary["greedy_sites"]
    (scn,) = out.glob("*_scenario.yaml")
    run = runner.invoke(app, ["run", str(scn), "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    before, after = _measure(tmp_path / "run", measure, method, "residential_area")
    assert before == pytest.approx(summary["coverage_before"], abs=1e-9)
    assert after == pytest.approx(summary["coverage_after"], abs=1e-9)
    assert after >= 1.0 - 1e-9
    sites = gpd.read_file(next(out.glob("*_sites.gpkg")))
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert sites["coverage_after_pct"].iloc[-1] == pytest.approx(100 * after, abs=1e-3)
    if method == "buffer":
        # independent overlay: existing green ≥ 400 m² and the new plots, buffered one by one
        city = geoplan.load_city(chengdu_pbf, boundary=chengdu_clip_polygon())
        parks = city.parks[city.parks["area_m2"] >= 400]
        geoms = [*parks.geometry.values, *sites.to_crs(city.crs).geometry.values]
        share = buffer_cover_share(geoms, 300, list(city.residential.geometry.values), crs=city.crs)
        assert share >= 1.0 - 1e-6


def test_buffer_land_result_is_the_overlay(chengdu_clip: geoplan.City) -> None:
    """Bus stops by buffer: the reported coverage after every site is a shapely overlay's."""
    spec = spec_of(
        "bus_stop_coverage", radius_m=300, method="buffer", basis="residential_area", target=0.9
    )
    res = suggest_sites(chengdu_clip, spec=spec, solver="exact")
    assert res.reached
    geoms = [*chengdu_clip.bus_stops.geometry.values, *res.sites.geometry.values]
    share = buffer_cover_share(
        geoms, 300, list(chengdu_clip.residential.geometry.values), crs=chengdu_clip.crs
    )
    assert res.coverage_after == pytest.approx(share, abs=1e-6)
    assert share >= 0.9 - 1e-9
    assert np.all(np.diff(res.sites["coverage_after"].to_numpy()) >= -1e-12)


def test_facility_category_uses_the_level_radius(chengdu_clip: geoplan.City) -> None:
    spec = spec_of(
        "life_circle",
        radius_m=None,
        method="network",
        basis="homes",
        target=0.95,
        category="kindergarten",
    )
    assert spec.radius_m == 300.0  # GB 50180 5-minute level (life_circles.yaml)
    res = suggest_sites(chengdu_clip, spec=spec)
    assert res.coverage_after >= 0.95 or not res.reached
    assert (res.sites["category"] == "kindergarten").all()


def test_candidate_layer_parcels_too_small_are_refused(chengdu_clip: geoplan.City) -> None:
    c = chengdu_clip.boundary_polygon.centroid
    small = gpd.GeoDataFrame(geometry=[c.buffer(5)], crs=chengdu_clip.crs)
    with pytest.raises(geoplan.GeoplanError, match="smaller than 5000"):
        cd.layer_candidates(small, chengdu_clip, min_area_m2=5000, where="plots.gpkg")


@pytest.mark.parametrize(
    ("args", "must"),
    [
        (["-i", "bus_stops"], "unknown indicator 'bus_stops'"),
        (["-i", "life_circle"], "needs --category"),
        (["-i", "bus_stop_coverage", "--target", "95"], "share in (0, 1]"),
        (["-i", "park_coverage", "--basis", "boundary_area"], "bus stops only"),
        (
            ["-i", "bus_stop_coverage", "--candidates", "nope.gpkg"],
            "nope.gpkg: --candidates file not found",
        ),
        (["-i", "bus_stop_coverage", "--solver", "best"], "--solver must be greedy or exact"),
    ],
)
def test_bad_options_get_one_line(tmp_path: Path, args: list[str], must: str) -> None:
    res = runner.invoke(app, ["suggest", "--osm", "demo", *args, "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    lines = [x for x in res.output.strip().splitlines() if x.strip()]
    assert len(lines) <= 2 and must in res.output, res.output
    assert "Traceback" not in res.output


def test_out_of_reach_is_said_and_listed(chengdu_clip: geoplan.City) -> None:
    """Street-only stops cannot reach homes hanging off an expressway ramp: said, not hidden."""
    spec = spec_of(
        "bus_stop_coverage", radius_m=500, method="network", basis="residential_area", target=1.0
    )
    res = suggest_sites(chengdu_clip, spec=spec)
    assert not res.reached
    assert res.coverage_after == pytest.approx(res.reachable, abs=1e-12)
    assert "out of reach" in res.message() and "无法达到" in res.message()
    lost = res.uncovered[~res.uncovered["reachable"]]
    assert len(lost) > 0
    w = homes_from_city(chengdu_clip)["area_m2"].sum()
    assert res.reachable == pytest.approx(1 - lost["weight"].sum() / w, abs=1e-9)
    # an independent nearest-edge search: every one of them stands nearest to a non-street way
    from _reference import brute_force_nearest_edge

    _, arg = brute_force_nearest_edge(
        list(lost.geometry.values), chengdu_clip.network.edge_geometry
    )
    grades = cd._edge_grades(chengdu_clip)[arg]
    assert not set(grades) & set(cd.STREET_GRADES)


@pytest.mark.parametrize(
    ("args", "target_id"),
    [
        (["-i", "bus_stop_coverage", "--radius", "500"], "bus_stop_coverage_500m"),
        (["-i", "park_coverage", "--green-kind", "park"], "park_500m"),
    ],
)
def test_suggest_speaks_the_sheets_language(
    chengdu_pbf: Path, tmp_path: Path, args: list[str], target_id: str
) -> None:
    """Without --basis / --target, suggest optimises what anyang-2023's scorecard shows (bus
    stops by buffer over the 建成区, 500米见园 over residential land; target from the sheet), and
    `geoplan run` on its scenario puts that very scorecard row at the promised figure."""
    sheet = geoplan.load_target_sheet("anyang-2023")
    t = next(x for x in sheet.checkable if x.id == target_id)
    out = tmp_path / "s"
    res = runner.invoke(
        app,
        [
            "suggest",
            "--osm",
            str(chengdu_pbf),
            "--boundary",
            str(_boundary_file(tmp_path)),
            *args,
            "-t",
            "anyang-2023",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    (summary_file,) = out.glob("*_summary.json")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    assert summary["target"] == pytest.approx(float(t.value))
    (scn,) = out.glob("*_scenario.yaml")
    run = runner.invoke(app, ["run", str(scn), "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    (card_file,) = (tmp_path / "run").glob("*_scorecard.csv")
    card = pd.read_csv(card_file)
    row = card[(card.target_id == target_id) & (card.method == "buffer")].iloc[0]
    assert row.measured_plan == pytest.approx(summary["coverage_after"], abs=1e-9)
    assert row.measured_baseline == pytest.approx(summary["coverage_before"], abs=1e-9)
    if summary["reached"]:
        assert row.status_plan == "pass"


def _gated(city: geoplan.City) -> geoplan.City:
    """The city with five residential parcels holding homes made gated compounds, each with one
    entrance at the first vertex of its outline."""
    import dataclasses

    from geoplan.io.compounds import Compounds

    homes = homes_from_city(city)
    polys = np.asarray(city.residential.geometry.values, dtype=object)
    counts = np.bincount(
        shapely.STRtree(polys).query(homes.geometry.values, predicate="within")[1],
        minlength=polys.size,
    )
    pick = polys[np.argsort(-counts)[:5]]
    pick = np.asarray([shapely.get_parts(p)[0] if p.geom_type != "Polygon" else p for p in pick])
    gates = tuple(np.asarray(p.exterior.coords[:1], dtype=float) for p in pick)
    return dataclasses.replace(city, compounds=Compounds(pick, gates, "test"))


@pytest.mark.parametrize("compounds", ["gates", "edges"])
def test_walking_suggestion_starts_from_the_checks_figure(
    chengdu_clip: geoplan.City, compounds: str
) -> None:
    """With gated compounds, ``suggest`` by walking counts the homes the check counts: its
    coverage before equals the check's 500米见园 walking share of homes, gates or not."""
    city = _gated(chengdu_clip)
    check = geoplan.check_city(city, sheet="national", compounds=compounds)  # type: ignore[arg-type]
    m = check.measures
    row = m[(m.measure == "park_500") & (m.method == "network") & (m.basis == "homes")]
    spec = spec_of("park_coverage", radius_m=500.0, method="network", basis="homes", target=1.0)
    res = suggest_sites(city, spec=spec, max_sites=3, compounds=compounds)  # type: ignore[arg-type]
    assert res.coverage_before == pytest.approx(float(row["value"].iloc[0]), abs=1e-12)


def test_candidate_reach_through_gates_equals_the_checks_rule(chengdu_clip: geoplan.City) -> None:
    """Each candidate's column of the walking matrix with compounds equals that candidate alone
    as a facility, its home distances passed through the gates as the check does."""
    from geoplan.network.access import nearest_distance_m
    from geoplan.network.gates import gate_model, through_gates

    city = _gated(chengdu_clip)
    net = city.network
    homes = np.asarray(homes_from_city(city).geometry.values, dtype=object)
    cands = _few_candidates(city, 15)
    r = 300.0
    A, _ = pb.network_matrix(net, cands, r, homes, boundary_step_m=2.0, compounds=city.compounds)
    att = attach_points(net, homes)
    gm = gate_model(city.compounds, shapely.get_coordinates(homes), att, net)
    assert gm is not None and gm.n_homes > 0
    dense = A.toarray() > 0
    moved = 0
    for c in range(cands.size):
        src = facility_sources(net, cands[c : c + 1])
        d = np.full(homes.size, np.inf)
        d[att.owner] = nearest_distance_m(net, att, src, limit_m=r)
        g = through_gates(d, nearest_distance_m(net, gm.entrances, src, limit_m=r), gm, limit_m=r)
        np.testing.assert_array_equal(dense[c], g <= r)
        moved += int(((d <= r) != (g <= r)).sum())
    assert dense.any()
    assert moved > 0  # the gates change which homes some candidates reach
