"""The animation player and GIFs: self-contained, the right frames, paths where the contour is.

Pixel positions are checked against the background image itself: the axes' spines are found
in the decoded PNG, and the data → pixel map is rebuilt from them and the surface's own
limits (no matplotlib transform from the code under test). Timing lives in
benchmarks/bench_animation.py, not here.
"""
import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

import gdviz
from gdviz import plotting
from gdviz.scene import MOVING_GIDS, STILL_GIDS
from gdviz.animation import (MAX_DEFAULT_FRAMES, Player, _draw_still,
                             animate, save_gif)

PNG_PREFIX = "data:image/png;base64,"


@pytest.fixture(scope="module")
def sgd():
    return gdviz.run("SGD", steps=30, lr=0.9)


@pytest.fixture(scope="module")
def sgd_player(sgd):
    return animate(sgd)


@pytest.fixture(scope="module")
def diverged():
    traj = gdviz.run("SGD", steps=30, lr=1.2)
    assert traj.diverged_at == 19          # |1 − 2·1.2|^k · 2 passes 1000 (100× the view) at k = 19
    return traj


def scene_of(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="gdviz-data">(.*?)</script>', html, re.S)
    assert match, "no frame data in the HTML"
    return json.loads(match.group(1))


def background_of(html: str) -> np.ndarray:
    (data,) = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"), dtype=float)


def longest_dark_run(line: np.ndarray, dark=140):
    """(start, stop) of the longest run of dark pixels in a row or column of the image."""
    best, start = (0, 0), None
    for i, value in enumerate(np.append(line, 255)):
        if value < dark and start is None:
            start = i
        elif value >= dark and start is not None:
            best, start = max(best, (start, i), key=lambda r: r[1] - r[0]), None
    return best


def axes_box(gray: np.ndarray, rows: slice):
    """The pixel box (left, top, right, bottom) of the axes whose bottom spine lies in ``rows``.

    The styles draw only the left and bottom spines: the bottom spine is the longest dark
    horizontal run, the left spine the longest dark vertical run starting at its left end.
    """
    offset = rows.start or 0
    runs = [(stop - start, y, start, stop) for y in range(*rows.indices(len(gray))[:2])
            for start, stop in [longest_dark_run(gray[y])]]
    _, bottom_row, left, right = max(runs)
    column = gray[offset:bottom_row + 1, left:left + 2].min(axis=1)
    top, _ = longest_dark_run(column)
    # spines are ~1.1 px wide and centred on the axes' edge, with projecting caps
    return left + 0.5, top + offset + 0.5, right - 0.5, bottom_row + 0.5


def test_html_is_self_contained_with_one_background_image(sgd_player):
    html = sgd_player.to_html()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "<link" not in html and "require(" not in html and "import(" not in html
    assert html.count("<img") == 1 and html.count(f'src="{PNG_PREFIX}') == 1
    assert 'class="gdviz-player"' in html and 'class="gdviz-play"' in html
    assert 'class="gdviz-frame"' in html
    assert sgd_player._repr_html_() == html
    assert sgd_player.nbytes == len(html.encode())


def test_one_frame_per_step_including_the_start(sgd, sgd_player):
    scene = scene_of(sgd_player.to_html())
    assert sgd_player.n_frames == 31 == len(scene["steps"])
    assert scene["steps"] == list(range(31))
    assert sgd_player.note == ""
    (path, loss) = scene["paths"]
    assert len(path["xy"]) == len(loss["xy"]) == 2 * len(sgd.points)


def test_long_runs_are_subsampled_evenly_keeping_first_and_last():
    player = animate(gdviz.run("Adam", steps=500, lr=0.3), loss_panel=False)
    steps = np.array(scene_of(player.to_html())["steps"])
    assert len(steps) == player.n_frames == MAX_DEFAULT_FRAMES + 1
    assert steps[0] == 0 and steps[-1] == 500
    assert set(np.diff(steps)) <= {4, 5}                   # 500 / 120 = 4.17
    assert "121 frames" in player.note and "500" in player.note
    assert "121 frames" in player.to_html()


def test_frames_picks_the_number_of_frames(sgd):
    steps = animate(sgd, frames=7).steps
    assert list(steps) == [0, 5, 10, 15, 20, 25, 30]
    assert list(animate(sgd, frames=1).steps) == [30]


def test_path_pixels_land_on_the_data_points_of_the_drawn_axes(sgd, sgd_player):
    html = sgd_player.to_html()
    scene, gray = scene_of(html), background_of(html)
    assert gray.shape == (scene["height"], scene["width"]) == (500, 600)
    left, top, right, bottom = axes_box(gray, slice(0, int(0.6 * len(gray))))
    surface = sgd.surface
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    expected_x = left + (sgd.points[:, 0] - x0) / (x1 - x0) * (right - left)
    expected_y = bottom - (sgd.points[:, 1] - y0) / (y1 - y0) * (bottom - top)
    xy = np.array(scene["paths"][0]["xy"], dtype=float).reshape(-1, 2)
    assert np.abs(xy[:, 0] - expected_x).max() < 1.5
    assert np.abs(xy[:, 1] - expected_y).max() < 1.5
    # and the canvas clip box is that same axes box
    assert np.allclose(scene["panels"][0]["clip"], [left, top, right, bottom], atol=1.5)


def test_loss_pixels_follow_the_log_scale_inside_the_loss_panel(sgd, sgd_player):
    html = sgd_player.to_html()
    scene, gray = scene_of(html), background_of(html)
    left, top, right, bottom = axes_box(gray, slice(int(0.6 * len(gray)), None))
    xy = np.array(scene["paths"][1]["xy"], dtype=float).reshape(-1, 2)
    assert scene["paths"][1]["panel"] == 1
    assert np.all((xy[:, 0] > left) & (xy[:, 0] < right) & (xy[:, 1] > top) & (xy[:, 1] < bottom))
    steps = np.arange(len(xy))
    log_gap = np.log10(sgd.losses - sgd.surface.min_value)
    for coordinate, value, sign in ((xy[:, 0], steps, 1), (xy[:, 1], log_gap, -1)):
        slope, intercept = np.polyfit(value, coordinate, 1)
        assert sign * slope > 0
        assert np.abs(slope * value + intercept - coordinate).max() < 0.02


@pytest.mark.parametrize("surface, beside", [("elongated_bowl", False), ("saddle", True)])
def test_the_loss_panel_goes_below_a_wide_view_and_beside_a_square_one(surface, beside):
    player = animate(gdviz.run("SGD", surface, steps=5, lr=0.1))
    contour, loss = (p["clip"] for p in scene_of(player.to_html())["panels"])
    assert (loss[0] > contour[2]) == beside          # starts right of the contours
    assert (loss[1] > contour[3]) == (not beside)    # starts below them


def test_sixty_frames_fit_in_one_megabyte():
    trajs = [gdviz.run("SGD", steps=59, lr=0.9),
             gdviz.run("Momentum", steps=59, lr=0.1, momentum=0.9),
             gdviz.run("Adam", steps=59, lr=0.5)]
    player = animate(trajs)
    assert player.n_frames == 60
    assert player.nbytes <= 1_000_000


def test_two_players_have_their_own_ids(sgd):
    first, second = animate(sgd), animate(sgd, loss_panel=False)
    assert first.id != second.id and animate(sgd).id != first.id
    page = first.to_html() + second.to_html()
    ids = re.findall(r'<div class="gdviz-player" id="([^"]+)" data-gdviz-id="([^"]+)"', page)
    assert [a for a, b in ids] == [b for a, b in ids] == [first.id, second.id]
    for player in (first, second):       # each script looks for its own player only
        script = player.to_html().rsplit("<script>", 1)[1].split("</script>")[0]
        assert script.endswith(f'("{player.id}");')


def test_script_and_style_are_the_package_files(sgd_player):
    from importlib import resources
    static = resources.files("gdviz") / "static"
    page = sgd_player.to_html()
    assert f"<style>{(static / 'player.css').read_text()}</style>" in page
    assert (f"<script>{(static / 'scene_draw.js').read_text()}\n{(static / 'player.js').read_text()}"
            f"(\"{sgd_player.id}\");</script>") in page


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to parse the JavaScript")
def test_the_script_parses(sgd_player, tmp_path):
    script = sgd_player.to_html().rsplit("<script>", 1)[1].split("</script>")[0]
    path = tmp_path / "player.js"
    path.write_text(script)
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def pixel(image: Image.Image, x: float, y: float) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=int)[int(y), int(x)]


def hex_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])


def test_gif_has_every_frame_and_shows_the_current_point(sgd, sgd_player, tmp_path):
    path = sgd_player.save_gif(tmp_path / "sgd.gif")
    assert path == tmp_path / "sgd.gif"
    gif = Image.open(path)
    assert gif.n_frames == sgd_player.n_frames == 31
    scene = scene_of(sgd_player.to_html())
    xy = np.array(scene["paths"][0]["xy"]).reshape(-1, 2)
    blue = hex_rgb(scene["paths"][0]["color"])
    background = Image.fromarray(background_of(sgd_player.to_html()).astype(np.uint8))
    # step 3's point lies far (> 10 px) from the points before it
    assert np.hypot(*(xy[:3] - xy[3]).T).min() > 10
    for frame, expect_there in ((2, False), (3, True)):
        gif.seek(frame)
        drawn = pixel(gif, *xy[3])
        if expect_there:
            assert np.abs(drawn - blue).max() < 40
        else:
            assert abs(drawn.mean() - pixel(background, *xy[3]).mean()) < 40
    # the stored deltas add up to the frames the compositor draws
    gif.seek(17)
    assert np.abs(np.asarray(gif.convert("RGB"), int) - np.asarray(sgd_player.frame_image(17), int)).mean() < 0.3


def test_save_gif_in_one_call(sgd, tmp_path):
    path = save_gif(sgd, str(tmp_path / "slides.gif"), frames=12, fps=5, loss_panel=False)
    assert Image.open(path).n_frames == 12
    assert Image.open(path).info["duration"] == 200


def test_a_diverged_path_stops_with_a_cross_at_its_step(diverged):
    player = animate([diverged, gdviz.run("Momentum", steps=10, lr=0.1, momentum=0.9)])
    assert player.steps[-1] == 19 and player.n_frames == 20     # up to the step it diverged
    scene = scene_of(player.to_html())
    path, loss = scene["paths"][0], scene["paths"][2]
    assert path["diverged_at"] == loss["diverged_at"] == 19
    assert len(loss["xy"]) == 2 * len(diverged.losses) == 2 * 19      # the last finite point is step 18
    assert "diverged at step" in player.to_html()                    # the readout's wording
    # in the loss panel, step 18 shows the current point, step 19 the ✕ on the same spot
    x, y = loss["xy"][-2:]
    cross_color = hex_rgb(scene["shapes"][loss["cross"]]["fill"])
    before, after = pixel(player.frame_image(18), x, y + 1), pixel(player.frame_image(19), x, y + 1)
    assert np.abs(before - hex_rgb(loss["color"])).max() < 40
    assert np.abs(after - cross_color).max() < 40


def test_the_off_view_divergence_note_appears_at_its_step(diverged):
    player = animate(diverged, loss_panel=False)
    (note,) = scene_of(player.to_html())["sprites"]
    assert note["from"] == 19
    box = (slice(int(note["y"]), int(note["y"]) + 8), slice(int(note["x"]), int(note["x"]) + 60))
    before = np.asarray(player.frame_image(18), int)[box]
    after = np.asarray(player.frame_image(19), int)[box]
    assert np.abs(after - before).max() > 100


@pytest.fixture(scope="module")
def at_minimum():
    """x stays 0 and η = 0.5 takes y to 0 in one step: f − f_min is exactly 0 from step 1 on."""
    traj = gdviz.run("SGD", start=(0, 2), steps=10, lr=0.5)
    assert traj.losses[0] == 4 and not traj.losses[1:].any()
    return traj


def test_marks_at_the_minimum_appear_step_by_step(at_minimum):
    player = animate(at_minimum)
    (mark,) = scene_of(player.to_html())["marks"]
    assert mark["steps"] == list(range(1, 11))
    xy = np.array(mark["xy"]).reshape(-1, 2)
    assert np.all(np.diff(xy[:, 0]) > 0) and np.ptp(xy[:, 1]) == 0
    frame = player.frame_image(3)                 # ▼ at steps 1, 2, 3; not yet at 4
    background = Image.fromarray(background_of(player.to_html()).astype(np.uint8))
    for k, shown in ((1, True), (3, True), (4, False)):
        drawn, empty = pixel(frame, *xy[k - 1]), pixel(background, *xy[k - 1])
        assert (np.abs(drawn.mean() - empty.mean()) > 60) == shown, k


def test_every_artist_plotting_draws_is_known_to_be_still_or_moving(diverged, at_minimum):
    """A new time-dependent artist in gdviz.plotting must be taught to the animation (by gid);
    otherwise it would show, finished, in every frame."""
    trajs = [diverged, at_minimum, gdviz.run("AdamW", steps=30, lr=0.5)]
    with plotting.style("notebook"):
        _, panels, _, _ = _draw_still(trajs, 30, loss_panel=True,
                                      figsize=(6, 5), dpi=100, title="")
    gids = {a.get_gid() for p in panels
            for a in (*p.lines, *p.texts, *p.collections, *p.patches, *p.images)}
    assert gids <= STILL_GIDS | MOVING_GIDS
    assert {"path", "loss", "diverged", "at_minimum", "diverged_note"} <= gids


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(trajs=[]), ValueError, "trajs is empty"),
    (dict(trajs="SGD"), TypeError, "trajs must be a Trajectory"),
    (dict(trajs=42), TypeError, "trajs must be a Trajectory"),
    (dict(trajs=[None, 3]), TypeError, "trajs[1]"),
    (dict(frames=0), ValueError, "frames"),
    (dict(frames=-3), ValueError, "frames"),
    (dict(frames=32), ValueError, "[1, 31]"),
    (dict(frames=2.5), TypeError, "frames"),
    (dict(fps=0), ValueError, "fps"),
    (dict(fps=-1), ValueError, "fps"),
    (dict(fps=float("nan")), ValueError, "fps"),
    (dict(fps="fast"), TypeError, "fps"),
    (dict(figsize=(6,)), TypeError, "figsize"),
    (dict(figsize=(0, 5)), ValueError, "figsize"),
    (dict(dpi=0), ValueError, "dpi"),
    (dict(loss_panel="yes"), TypeError, "loss_panel"),
    (dict(title=3), TypeError, "title"),
])
def test_bad_arguments_are_named(sgd, kwargs, error, words):
    trajs = kwargs.pop("trajs", sgd)
    if isinstance(trajs, list) and trajs[:1] == [None]:      # a Trajectory, then not one
        trajs = [sgd, *trajs[1:]]
    with pytest.raises(error) as info:
        animate(trajs, **kwargs)
    assert words in str(info.value)


def test_runs_on_different_surfaces_are_refused(sgd):
    with pytest.raises(ValueError, match="one surface"):
        animate([sgd, gdviz.run("SGD", "rosenbrock", steps=5, lr=1e-3)])


def test_bad_gif_arguments_write_nothing(sgd_player, tmp_path):
    with pytest.raises(ValueError, match="fps"):
        sgd_player.save_gif(tmp_path / "a.gif", fps=0)
    with pytest.raises(ValueError, match=r"\.gif"):
        sgd_player.save_gif(tmp_path / "a.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sgd_player.save_gif(tmp_path / "missing" / "a.gif")
    with pytest.raises(TypeError, match="path"):
        sgd_player.save_gif(3)
    assert list(tmp_path.iterdir()) == []


def _elements(html: str) -> list[tuple[str, dict]]:
    """Every start tag in `html` as (tag, attributes)."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))
    Collect().feed(html)
    return found


def test_player_is_a_player(sgd, sgd_player):
    assert isinstance(sgd_player, Player)
    assert "31 frames" in repr(sgd_player)
    html = sgd_player.to_html()
    elements = _elements(html)
    tag, root = elements[0]
    assert tag == "div" and "gdviz-player" in root["class"].split() and root["id"] == sgd_player.id

    def having(tag, cls=None, **attrs):
        return [a for t, a in elements if t == tag and (cls is None or cls in a.get("class", "").split())
                and all(a.get(k) == v for k, v in attrs.items())]
    # the picture: a still background (inline PNG) under a canvas the frames are drawn on
    assert len(having("canvas")) == 1
    assert [a["src"][:len(PNG_PREFIX)] for a in having("img")] == [PNG_PREFIX]
    # the controls: play, step through, and a frame slider over exactly the frames
    for cls in ("gdviz-play", "gdviz-first", "gdviz-prev", "gdviz-next", "gdviz-last"):
        assert len(having("button", cls)) == 1, cls
    (slider,) = having("input", "gdviz-slider", type="range")
    assert (slider["min"], slider["max"]) == ("0", str(sgd_player.n_frames - 1))
    assert len(having("span", "gdviz-frame")) == 1
    # the frames' data: one step per frame, the path through every point of the run
    scene = scene_of(html)
    assert scene["steps"] == list(range(31)) == sgd_player.steps.tolist()
    assert len(scene["paths"][0]["xy"]) == 2 * len(sgd.points)
    # its script finds this player by its id; nothing is fetched from elsewhere
    scripts = re.findall(r"<script(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    assert any(f'"{sgd_player.id}"' in script for script in scripts)
    assert not re.search(r'(src|href)="(?!data:)', html)
    # two players of the same run on one page do not share an id
    other = animate(sgd)
    assert other.id != sgd_player.id and f'id="{other.id}"' in other.to_html()


def test_the_scene_carries_each_divergence_note_as_data(diverged, sgd):
    scene = scene_of(animate([diverged, sgd]).to_html())
    assert [p["note"] for p in scene["paths"] if p["panel"] == 0] == [
        plotting.diverged_label("SGD", 19), None]
    assert all("label" not in path for path in scene["paths"])       # nothing to parse back


def test_a_light_path_is_outlined_as_plotting_describes_it(monkeypatch):
    """The player takes the outline from plotting's public description (no private state of
    matplotlib's path effects): change the description and the scene follows."""
    adamw = gdviz.run("AdamW", steps=5, lr=0.1)
    assert plotting.outline_style(plotting.optimizer_color("AdamW")) is not None
    assert plotting.outline_style(plotting.optimizer_color("SGD")) is None
    described = plotting.outline_style

    def wider_and_red(color, linewidth=None):
        style = described(color, linewidth)
        return style and {"color": "#ff0000", "linewidth": style["linewidth"] + 2.0}

    monkeypatch.setattr(plotting, "outline_style", wider_and_red)
    scene = scene_of(animate(adamw).to_html())
    path = scene["paths"][0]
    px_per_pt = 100 / 72
    expected_pt = plotting.STYLES["notebook"]["lines.linewidth"] + plotting.OUTLINE_EXTRA_WIDTH + 2.0
    assert path["outline"] == {"color": "#ff0000", "lw": round(expected_pt * px_per_pt, 2)}
    assert scene["shapes"][path["marker_outline"]]["edge"] == "#ff0000"


def test_animate_and_plotting_share_one_trajectory_check():
    from gdviz import animation
    from gdviz.plotting import _common
    assert animation._as_trajectories is _common._as_trajectories      # one check, not two copies
