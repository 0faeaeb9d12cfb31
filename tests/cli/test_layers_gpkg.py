"""The city GeoPackage of ``geoplan layers`` (``geoplan.cli.layers``): layers read back equal,
a planner's own layers never overwritten."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

import geoplan
from geoplan._errors import OutputError
from geoplan.cli.layers import foreign_layers, gpkg_layers, write_gpkg


def test_layers_round_trip_and_foreign_layers_are_kept(
    chengdu_clip: geoplan.City, tmp_path: Path
) -> None:
    layers = gpkg_layers(chengdu_clip)
    assert set(layers) >= {"roads", "facilities", "parks", "bus_stops", "residential"}
    for name, gdf in layers.items():
        assert "tags" not in gdf.columns and gdf.crs == chengdu_clip.crs
        src = chengdu_clip.layers()[name]
        assert len(gdf) == len(src)
        types = set(shapely.get_type_id(gdf.geometry.values))
        assert not ({1, 5} <= types or {3, 6} <= types)  # never single and multi mixed
    path = write_gpkg(tmp_path / "city.gpkg", layers)
    back = gpd.read_file(path, layer="roads")
    assert len(back) == len(layers["roads"])
    assert back.geometry.length.sum() == pytest.approx(layers["roads"].geometry.length.sum())
    # a planner's own layer in the file: refused, the file untouched
    own = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(0, 0)], crs=chengdu_clip.crs)
    pyogrio.write_dataframe(own, path, layer="规划_own", append=True)
    assert foreign_layers(path, layers) == ["规划_own"]
    before = path.read_bytes()
    with pytest.raises(OutputError, match="holds layers geoplan did not write"):
        write_gpkg(path, layers)
    assert path.read_bytes() == before
    (tmp_path / "x.gpkg").write_text("not a geopackage")
    with pytest.raises(OutputError, match="not a GeoPackage"):
        foreign_layers(tmp_path / "x.gpkg", layers)
