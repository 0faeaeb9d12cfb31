"""End-to-end: the saved map opens in real headless Chromium with the network off.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make browser-deps`` installs them); skipped
with a reason when they are missing. The screenshot goes to ``maps/test_screenshot.png``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from test_webmap import map_args, real_results, with_evil_facilities  # type: ignore[import-not-found]

import geoplan
from geoplan.outputs.webmap import build_map, overlay_layers, save_map

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = Path(__file__).parents[2] / "maps" / "test_screenshot.png"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")) or not (
        Path(CHROMEDRIVER).exists() or shutil.which("chromedriver")
    ):
        pytest.skip("Debian chromium/chromium-driver not installed (make browser-deps)")
    webdriver = pytest.importorskip("selenium.webdriver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        # network off: no name resolves, and any connection goes to a closed local port
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--window-size=1400,900",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(
        executable_path=CHROMEDRIVER
        if Path(CHROMEDRIVER).exists()
        else shutil.which("chromedriver")
    )
    drv = webdriver.Chrome(options=opts, service=service)
    drv.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    yield drv
    drv.quit()


def test_offline_map_renders_without_errors(
    driver,  # type: ignore[no-untyped-def]
    chengdu_clip: geoplan.City,
    tmp_path: Path,
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    city = with_evil_facilities(chengdu_clip)
    m = build_map(city, **map_args(real_results(chengdu_clip)))
    path = save_map(m, tmp_path / "chengdu_clip.html")

    t0 = time.perf_counter()
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    load_s = time.perf_counter() - t0

    assert driver.execute_script("return typeof window.L") == "object"
    assert driver.execute_script("return L.version") == "1.9.4"
    map_name = m.get_name()
    assert driver.execute_script(f"return window.{map_name} instanceof L.Map")

    # the grouped layer control: at most 8 groups, every overlay but the boundary in one
    groups = driver.find_elements(By.CSS_SELECTOR, ".geoplan-layers .sec input")
    assert 1 <= len(groups) <= 8
    listed = driver.execute_script(
        "return Array.from(document.querySelectorAll('.geoplan-layers .sec')).length"
    )
    assert listed == len(groups)
    names = [lyr.get_name() for lyr in overlay_layers(m)]
    assert all(driver.execute_script(f"return !!window.{n}") for n in names)
    # switching a group on adds its layers to the map, off removes them
    ctl = driver.find_element(By.CSS_SELECTOR, ".geoplan-layers summary")
    ctl.click()
    n_before = driver.execute_script(
        f"var k = 0; window.{m.get_name()}.eachLayer(function(){{k++;}}); return k;"
    )
    box = driver.find_elements(By.CSS_SELECTOR, ".geoplan-layers .sec input")[0]
    box.click()
    n_after = driver.execute_script(
        f"var k = 0; window.{m.get_name()}.eachLayer(function(){{k++;}}); return k;"
    )
    assert n_after != n_before
    box.click()
    ctl.click()

    legend = driver.find_element(By.CSS_SELECTOR, ".geoplan-legend")
    assert legend.is_displayed() and "图例" in legend.text
    panel = driver.find_element(By.CSS_SELECTOR, ".geoplan-scorecard")
    assert panel.is_displayed() and "指标评估" in panel.text
    attribution = driver.find_element(By.CSS_SELECTOR, ".leaflet-control-attribution")
    assert "OpenStreetMap" in attribution.text and "contributors" in attribution.text

    n_paths = driver.execute_script(
        "return document.querySelectorAll('.leaflet-overlay-pane svg path').length"
    )
    assert n_paths > 100

    SCREENSHOT.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000

    # click every feature that has a popup (popup HTML is built then): no script may run
    texts = driver.execute_script(
        f"""
        var texts = [];
        window.{map_name}.eachLayer(function(g) {{
            if (!(g instanceof L.GeoJSON) || !g.getPopup()) return;
            g.eachLayer(function(f) {{
                var at = f.getLatLng ? f.getLatLng() : f.getBounds().getCenter();
                f.fire('click', {{latlng: at}}, true);
                var el = g.getPopup().getElement();
                if (el) texts.push(el.textContent);
            }});
        }});
        return texts;
        """
    )
    assert len(texts) > 100
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    evil_seen = [t for t in texts if "alert(1)" in t]
    assert any("<script>alert(1)</script>" in s for s in evil_seen)
    assert any('"><img src=x onerror=alert(1)>' in s for s in evil_seen)
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    driver.execute_script(f"window.{map_name}.closePopup()")

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []

    print(f"map {path.stat().st_size / 1e6:.2f} MB loaded in {load_s:.2f} s; {SCREENSHOT}")


HOSTILE = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "</script><script>alert(1)</script>",
)


def test_change_map_with_hostile_names_runs_no_script(
    driver,  # type: ignore[no-untyped-def]
    chengdu_clip: geoplan.City,
    tmp_path: Path,
) -> None:
    """Hostile names from OSM (facilities, removed bus stops), a plan layer and a target sheet's
    labels: every string is drawn escaped; hovering and clicking every feature runs no script."""
    import dataclasses

    import geopandas as gpd
    import shapely
    import yaml
    from selenium.common.exceptions import NoAlertPresentException

    from geoplan.outputs.change_map import change_map
    from geoplan.scenario.session import ScenarioSession
    from geoplan.scoring.targets import TARGET_SHEETS_DIR

    city = with_evil_facilities(chengdu_clip)
    stops = city.bus_stops.copy()
    for i, name in enumerate(HOSTILE[: len(stops)]):
        stops.iloc[i, stops.columns.get_loc("name")] = name
    city = dataclasses.replace(city, bus_stops=stops)
    c = city.boundary_polygon.centroid
    plan = gpd.GeoDataFrame(
        {"name": list(HOSTILE)},
        geometry=[shapely.box(c.x + 100 * i, c.y, c.x + 100 * i + 60, c.y + 60) for i in range(4)],
        crs=city.crs,
    )
    raw = yaml.safe_load((TARGET_SHEETS_DIR / "anyang-2023.yaml").read_text(encoding="utf-8"))
    for t, evil in zip(raw["targets"], HOSTILE, strict=False):
        t["label_zh"] = evil
    sheet = tmp_path / "hostile.yaml"
    sheet.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    scn = geoplan.Scenario("hostile", targets=str(sheet)).add_parks(plan)
    scn.remove("bus_stops", all=True)
    res = ScenarioSession(city).run(scn)
    path = change_map(res, tmp_path / "hostile.html")
    html = path.read_text(encoding="utf-8")
    for evil in HOSTILE:
        assert evil not in html

    driver.get(path.as_uri())
    names = driver.execute_script(
        """
        var out = [];
        for (var k in window) {
            var m = window[k];
            if (!(m instanceof L.Map)) continue;
            m.eachLayer(function(g) {
                if (!(g instanceof L.GeoJSON)) return;
                g.eachLayer(function(f) {
                    var at = f.getLatLng ? f.getLatLng() : f.getBounds().getCenter();
                    f.fire('mouseover', {latlng: at}, true);
                    f.fire('click', {latlng: at}, true);
                    var t = f.getTooltip && f.getTooltip();
                    if (t && t.getElement()) out.push(t.getElement().textContent);
                    var p = g.getPopup && g.getPopup();
                    if (p && p.getElement()) out.push(p.getElement().textContent);
                });
            });
        }
        return out;
        """
    )
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert driver.execute_script("return document.querySelectorAll('[onmouseover]').length") == 0
    shown = " ".join(names) + driver.find_element("css selector", "body").text
    assert "<script>alert(1)</script>" in shown  # the names are there, as text
    assert "<img src=x onerror=alert(1)>" in shown


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_panels_leave_the_study_area_free(
    driver,  # type: ignore[no-untyped-def]
    chengdu: geoplan.City,
    tmp_path: Path,
    size: tuple[int, int],
) -> None:
    """The Chengdu check map at laptop and desktop sizes: no panel over the study area's bounds,
    no panel cut off (inside the window, no clipped text), metric scale, a language attribute."""
    from geoplan.outputs.map_result import check_map

    res = geoplan.check_city(chengdu, sheet="anyang-2023")
    path = save_map(check_map(chengdu, res), tmp_path / "chengdu.html")
    html = path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    driver.set_window_size(*size)
    driver.get(path.as_uri())
    time.sleep(0.5)
    got = driver.execute_script(
        """
        var m = window.geoplanMap, b = window.geoplanBounds;
        var c = m.getContainer().getBoundingClientRect();
        var p1 = m.latLngToContainerPoint(b.getNorthWest()),
            p2 = m.latLngToContainerPoint(b.getSouthEast());
        var study = {left: c.left + p1.x, top: c.top + p1.y, right: c.left + p2.x,
                     bottom: c.top + p2.y};
        var panels = [];
        document.querySelectorAll(
          ".geoplan-panel, .leaflet-control-layers, .leaflet-control-scale, .leaflet-control-zoom"
        ).forEach(function(e) {
          var r = e.getBoundingClientRect();
          panels.push({cls: e.className, left: r.left, top: r.top, right: r.right,
                       bottom: r.bottom, sw: e.scrollWidth, cw: e.clientWidth});
        });
        return {study: study, panels: panels, w: window.innerWidth, h: window.innerHeight,
                scale: document.querySelector(".leaflet-control-scale").textContent};
        """
    )
    s = got["study"]
    assert s["right"] - s["left"] > 0.3 * got["w"] or s["bottom"] - s["top"] > 0.5 * got["h"]
    for p in got["panels"]:
        overlap = not (
            p["right"] <= s["left"]
            or p["left"] >= s["right"]
            or p["bottom"] <= s["top"]
            or p["top"] >= s["bottom"]
        )
        assert not overlap, (size, p["cls"], p, s)
        assert p["left"] >= 0 and p["top"] >= 0, p
        assert p["right"] <= got["w"] + 0.5 and p["bottom"] <= got["h"] + 0.5, p
        assert p["sw"] <= p["cw"] + 1, ("text cut off", p)
    assert "km" in got["scale"] or " m" in got["scale"]
    assert "mi" not in got["scale"] and "ft" not in got["scale"]
    shot = SCREENSHOT.with_name(f"map_{size[0]}x{size[1]}.png")
    driver.save_screenshot(str(shot))
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_side_by_side_maps_move_together(
    driver,  # type: ignore[no-untyped-def]
    chengdu: geoplan.City,
    tmp_path: Path,
) -> None:
    """The scenario's baseline and plan side by side: both maps load offline and follow each
    other when one is moved."""
    from geoplan.outputs.change_map import side_by_side
    from geoplan.scenario.files import load_scenario_file
    from geoplan.scenario.session import ScenarioSession

    root = Path(__file__).parents[2]
    res = ScenarioSession(chengdu).run(
        load_scenario_file(root / "scenarios" / "chengdu_zhengzhou_parks.yaml")
    )
    path = side_by_side(res, tmp_path / "sbs.html")
    html = path.read_text(encoding="utf-8")
    assert html.count("<iframe") == 2 and "<script src=" not in html.replace("\\/", "/")
    assert path.stat().st_size <= 5_000_000  # central Chengdu's parks scenario (was 41 MB)
    driver.set_window_size(1366, 768)  # a planner's laptop
    driver.get(path.as_uri())
    for _ in range(50):
        if driver.execute_script("return window.geoplanMaps && window.geoplanMaps.length"):
            break
        time.sleep(0.1)
    time.sleep(0.6)  # both maps fitted around their panels
    opened = driver.execute_script(
        """
        var a = window.geoplanMaps[0], b = window.geoplanMaps[1];
        return [a.getZoom(), b.getZoom(), a.getCenter().lat, b.getCenter().lat,
                a.getCenter().lng, b.getCenter().lng];
        """
    )
    assert opened[0] == opened[1]  # the same zoom on opening, before any pan
    assert opened[2] == pytest.approx(opened[3], abs=1e-3)  # centres within ~100 m
    assert opened[4] == pytest.approx(opened[5], abs=1e-3)
    # one legend: the plan's
    legends = driver.execute_script(
        """
        return Array.from(document.querySelectorAll("iframe")).map(function(f) {
          var e = f.contentDocument.querySelector(".geoplan-legend");
          return !!e && f.contentWindow.getComputedStyle(e).display !== "none";
        });
        """
    )
    assert legends == [False, True]
    moved = driver.execute_script(
        """
        var a = window.geoplanMaps[0], b = window.geoplanMaps[1];
        var c = a.getCenter();
        a.setView([c.lat + 0.01, c.lng + 0.01], a.getZoom() + 1, {animate: false});
        var cb = b.getCenter();
        return [a.getCenter().lat, a.getCenter().lng, cb.lat, cb.lng, a.getZoom(), b.getZoom()];
        """
    )
    assert moved[0] == pytest.approx(moved[2], abs=1e-6)
    assert moved[1] == pytest.approx(moved[3], abs=1e-6)
    assert moved[4] == moved[5]
    shot = SCREENSHOT.with_name("change_side_by_side.png")
    driver.save_screenshot(str(shot))
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_batch_overview_labels_each_place_metric_scale_and_no_flag(
    driver,  # type: ignore[no-untyped-def]
    chengdu_clip: geoplan.City,
    helsinki: geoplan.City,
    tmp_path: Path,
) -> None:
    """Every place named with its pass rate on the map, a metric scale, the attribution
    "© OpenStreetMap contributors" and Leaflet's prefix without the flag."""
    import geopandas as gpd
    from selenium.webdriver.common.by import By

    from geoplan.batch.summary import overview_map

    rows = []
    for name, city, rate in (("成都中心", chengdu_clip, 0.25), ("<b>helsinki</b>", helsinki, None)):
        wgs = gpd.GeoSeries([city.boundary_polygon], crs=city.crs).to_crs(4326).iloc[0]
        rows.append(
            {"name": name, "boundary_wkt": wgs.wkt, "pass_rate": rate, "pass": 1, "fail": 3}
        )
    path = overview_map(rows, tmp_path / "overview.html", title="批量 batch")
    driver.set_window_size(1366, 768)
    driver.get(path.as_uri())
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".geoplan-place")]
    assert sorted(labels) == sorted(["成都中心 25%", "<b>helsinki</b>"])  # escaped: shown as text
    scale = driver.find_element(By.CSS_SELECTOR, ".leaflet-control-scale").text
    assert ("m" in scale or "km" in scale) and "mi" not in scale and "ft" not in scale
    attribution = driver.find_element(By.CSS_SELECTOR, ".leaflet-control-attribution")
    assert "OpenStreetMap" in attribution.text and "contributors" in attribution.text
    assert not driver.find_elements(By.CSS_SELECTOR, ".leaflet-attribution-flag")
