"""``geoplan suggest``: where to build so that one coverage indicator reaches its target."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import typer
from rich.console import Console

from geoplan._errors import InputFileError, LayerError
from geoplan._outputs_set import check_output_dir, output_set
from geoplan.city import City
from geoplan.cli.options import (
    BoundaryOpt,
    BuiltUpOpt,
    CrsOpt,
    DistrictOpt,
    FacilitiesModeOpt,
    FacilitiesOpt,
    IncludePrivateOpt,
    NameOpt,
    PopulationColumnOpt,
    PopulationOpt,
    QuietOpt,
)
from geoplan.outputs.formats import ATTRIBUTION
from geoplan.siting.spec import SitingSpec
from geoplan.siting.suggest import SitingResult


def suggest(  # numpydoc ignore=PR01
    *,
    indicator: Annotated[
        str,
        typer.Option(
            "--indicator",
            "-i",
            help="bus_stop_coverage (公交站点覆盖率), park_coverage (300米见绿 / 500米见园) or "
            "life_circle (one facility category, with --category).",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Output folder: <stem>_sites.gpkg/.csv, _uncovered.gpkg, _scenario.yaml, "
            "_summary.json.",
        ),
    ],
    osm: Annotated[
        str, typer.Option("--osm", metavar="FILE", help="OSM extract; `demo` = embedded Helsinki.")
    ] = "demo",
    boundary: BoundaryOpt = None,
    district: DistrictOpt = None,
    crs: CrsOpt = None,
    radius: Annotated[
        float | None,
        typer.Option(
            "--radius",
            metavar="M",
            help="Service radius in m (default: 500 for stops, 500 parks / 300 green, the "
            "life-circle level of the category).",
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="buffer (服务半径, official) or network (步行距离).")
    ] = "buffer",
    target: Annotated[
        float | None,
        typer.Option(
            "--target",
            help="Coverage share to reach, 1.0 = 100 % (default: the sheet's target for it).",
        ),
    ] = None,
    basis: Annotated[
        str | None,
        typer.Option(
            "--basis",
            help="residential_area (居住用地), homes, residents (needs --population) or "
            "boundary_area (bus stops: the 建成区). Default: the basis the sheet's scorecard "
            "shows (bus stops: the built-up area; else residential land, by walking residents).",
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", help="Life-circle category (kindergarten, primary_school …)."),
    ] = None,
    green_kind: Annotated[
        str,
        typer.Option("--green-kind", help="park (500米见园) or green (300米见绿, pocket parks)."),
    ] = "park",
    min_area: Annotated[
        float | None,
        typer.Option(
            "--min-area", metavar="M2", help="Smallest park that counts (default 5000 / 400 m²)."
        ),
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            "--candidates",
            metavar="FILE",
            help="Candidate sites: points, or parcels (存量 / vacant land) a park may fill; "
            "default: along the streets.",
        ),
    ] = None,
    coord_system: Annotated[
        str,
        typer.Option("--coord-system", help="Of --candidates lon/lat: wgs84, gcj02 (AMap), bd09."),
    ] = "wgs84",
    spacing: Annotated[
        float | None,
        typer.Option(
            "--spacing", metavar="M", help="Generated candidates every M m (50; parks 100)."
        ),
    ] = None,
    candidate_roads: Annotated[
        str,
        typer.Option(
            "--candidate-roads",
            help="Generated candidates on streets (主干/次干/支路) or all walkable ways.",
        ),
    ] = "streets",
    solver: Annotated[
        str, typer.Option("--solver", help="greedy (fast) or exact (fewest sites, HiGHS).")
    ] = "greedy",
    compare: Annotated[
        bool, typer.Option("--compare", help="Also solve exactly; report the greedy's gap.")
    ] = False,
    max_sites: Annotated[int, typer.Option("--max-sites", help="At most this many sites.")] = 2000,
    targets: Annotated[
        str,
        typer.Option(
            "--targets", "-t", metavar="SHEET", help="Target sheet of the scenario written."
        ),
    ] = "national",
    population: PopulationOpt = None,
    population_column: PopulationColumnOpt = "population",
    population_kind: Annotated[
        str, typer.Option("--population-kind", help="cells, census or auto (as check).")
    ] = "auto",
    built_up: BuiltUpOpt = "osm",
    facilities: FacilitiesOpt = None,
    facilities_mode: FacilitiesModeOpt = "auto",
    include_private: IncludePrivateOpt = False,
    name: NameOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Suggest sites 选址建议 that bring a coverage indicator to a target.

    Ranks sites by marginal coverage (greedy maximal covering; --solver exact for the fewest
    sites), by straight-line radius or walking distance, and writes a plan layer and a scenario
    that `geoplan run` executes to show the before → after scorecard.

    Examples
    --------
      geoplan suggest --osm chengdu.osm.pbf --boundary area.geojson -i bus_stop_coverage
      --radius 500 --method network --target 1.0 --out out/stops

      geoplan suggest --osm demo -i park_coverage --green-kind green --radius 300 --out out/parks
    """
    from geoplan.cli.console import console, is_quiet, run_cli_errors
    from geoplan.cli.options import study_from_options
    from geoplan.scoring.targets import load_target_sheet
    from geoplan.siting import spec_of, suggest_sites
    from geoplan.siting.output import write_suggestion
    from geoplan.siting.spec import sheet_terms

    with run_cli_errors():
        quiet = quiet or is_quiet()
        con = console()
        if quiet:
            con.quiet = True
        t0 = time.perf_counter()
        terms = sheet_terms(
            indicator,
            load_target_sheet(targets),
            method=method,
            radius_m=radius,
            green_kind=green_kind,
            with_population=population is not None,
        )
        spec = spec_of(
            indicator,
            radius_m=radius,
            method=method,
            basis=basis if basis is not None else terms.basis,
            target=target if target is not None else terms.target,
            category=category,
            green_kind=green_kind,
            min_area_m2=min_area,
        )
        if solver not in ("greedy", "exact"):
            raise LayerError(f"--solver must be greedy or exact, not {solver!r}")
        if max_sites < 1:
            raise LayerError(f"--max-sites must be at least 1, not {max_sites}")
        study = study_from_options(
            name=name,
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
        )
        study.check_files()
        if candidates is not None and not candidates.exists():
            raise InputFileError(f"{candidates}: --candidates file not found")
        check_output_dir(out)
        city = study.load(progress=None if not quiet else False)
        notes = list(city.report.notes)
        homes = study.homes(city)
        cand = (
            None
            if candidates is None
            else _read_candidates(candidates, coord_system, city, spec, notes)
        )
        result = suggest_sites(
            city,
            spec=spec,
            candidates=cand,
            candidate_roads=candidate_roads,
            homes=homes,
            built_up=study.built_up_area(city),
            solver=solver,  # type: ignore[arg-type]
            compare=compare,
            spacing_m=spacing,
            max_sites=max_sites,
            compounds=study.compounds,
        )
        stem = f"{city.name}_{spec.kind}_{spec.method}_{spec.radius_m:g}"
        city_spec = study.city_block()
        with output_set(f"suggest-{stem}", inputs=[osm, boundary, candidates, population]) as outs:
            folder = outs.dir(out)
            if district is not None:
                bfile = folder / f"{stem}_boundary.geojson"
                city.boundary.to_crs(4326).to_file(bfile, driver="GeoJSON")
                city_spec["boundary"] = bfile.name
            staged = write_suggestion(
                result, folder, stem=stem, city=city_spec, targets=targets, final_folder=out
            )
        if terms.target_id and basis is None and target is None:
            con.print(
                f"[dim]as {targets} scores it: {terms.label} ({terms.target_id}), "
                f"{spec.method} over {spec.basis.replace('_', ' ')}, target {spec.target:.0%}[/dim]"
            )
        _print_result(con, result)
        for note in notes:
            con.print(f"[dim]note: {note}[/dim]")
        for kind, p in staged.items():
            con.print(f"{kind}: {outs.final(p)}")
        con.print(f"[dim]seconds {time.perf_counter() - t0:.1f} · {ATTRIBUTION}[/dim]")


def _read_candidates(
    path: Path, coord_system: str, city: City, spec: SitingSpec, notes: list[str]
) -> gpd.GeoDataFrame:
    """``--candidates``: a planner's points or parcels, in the city's CRS (drops noted)."""
    from geoplan.io.plan_layers import read_plan_layer
    from geoplan.siting.candidates import layer_candidates

    layer = read_plan_layer(
        path,
        coord_system=coord_system,  # type: ignore[arg-type]
        kind="candidates",
    ).gdf
    cand, dropped = layer_candidates(
        layer,
        city,
        min_area_m2=spec.min_area_m2 if spec.kind == "parks" else None,
        where=str(path),
    )
    if dropped:
        notes.append(
            f"{path}: {len(cand)} candidates; left out "
            + ", ".join(f"{v} {k}" for k, v in dropped.items())
        )
    return cand


def _print_result(con: Console, result: SitingResult) -> None:
    """The sentence, the counts, the greedy's gap and the first ten sites."""
    spec, s = result.spec, result.summary
    con.print(result.message())
    con.print(
        f"candidates {s['n_candidates']}, existing {s['n_existing']}, sites {s['n_sites']}; "
        f"coverage {result.coverage_before:.2%} → {result.coverage_after:.2%} "
        f"(target {spec.target:.1%}, reachable {result.reachable:.2%})"
    )
    if "optimal_sites" in s:
        con.print(
            f"greedy {s['greedy_sites']} sites vs optimal {s['optimal_sites']} "
            f"({'proven' if s['optimal_proven'] else 'not proven'}, {s['exact_seconds']} s)"
        )
    for r in result.sites.head(10).itertuples():
        con.print(f"  {r.rank:>3}. {r.name}  +{r.marginal:.2%} → {r.coverage_after:.2%}")
