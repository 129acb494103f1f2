"""The page at ``/`` driven in real headless Chromium (Debian's ``chromium`` + ``chromium-driver``).

Selenium gets the driver's path explicitly and ``SE_AVOID_STATS=true`` (otherwise Selenium Manager
looks for drivers and sends usage statistics out). Chromium resolves no host name but the loopback
address, so the page (and ``/docs``) must work with nothing but this server. The swap is real: the
classic engine on the sample GIF. Screenshots of each step go to the test's temp folder.
"""

from __future__ import annotations

import base64
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests
from PIL import Image, ImageSequence

from frameswap.api import FaceSwapper
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings
from kit.server import LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

webdriver = pytest.importorskip("selenium.webdriver")
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)",
                allow_module_level=True)

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WAIT_S = 180  # a generous ceiling for a shared CI machine, not a speed check


class RecordingSwapper:
    """The real swapper, remembering the options of every swap request it ran."""

    def __init__(self, inner: FaceSwapper) -> None:
        self.inner = inner
        self.swaps: list = []
        self.sources: list = []
        self.targets: list = []
        self._lock = threading.Lock()

    def swap(self, source, target, output=None, **kwargs):
        with self._lock:
            self.swaps.append(kwargs["options"])
            self.sources.append(source)
            self.targets.append(target)
        return self.inner.swap(source, target, output, **kwargs)

    def faces(self, target, options=None, **kwargs):
        return self.inner.faces(target, options, **kwargs)

    def describe(self):
        return self.inner.describe()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    from sample_recipe import build_samples

    return build_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def swapper(tmp_path_factory):
    models = tmp_path_factory.mktemp("models")  # empty: the classic engine, nothing from the user's home
    return RecordingSwapper(FaceSwapper(models_dir=models, engine="classic"))


@pytest.fixture
def serve():
    servers: list[LiveServer] = []

    def start(swapper, **changes) -> LiveServer:
        settings = ServerSettings(**{"job_timeout_s": 300.0, **changes})
        server = LiveServer(create_app(settings, swapper=swapper)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,1100",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # loopback only
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--disable-features=MediaRouter,OptimizationHints,Translate",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> None:
        driver.save_screenshot(str(shots / f"{name}.png"))

    driver.shot = shot
    yield driver
    driver.quit()


def wait(driver, condition, timeout: float = WAIT_S):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def faces_in(driver, role: str):
    return driver.find_elements(By.CSS_SELECTOR, f"#{role}-faces button[data-face-index]")


def open_page(driver, url: str) -> None:
    """Load ``url`` and wait for its scripts to have run. ``get`` may return while the document is
    still "interactive" on a loaded machine, before the deferred app.js has wired its drop zones
    (a drop dispatched then went nowhere: seen on CI); "complete" comes after every deferred script."""
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return document.readyState") == "complete", 60)


def wait_for_faces(driver, exact: bool = False, **counts: int) -> None:
    """Wait until each role lists its faces (at least ``counts[role]``, or exactly with ``exact``).
    An error shown by the page fails at once with its text; a timeout says what the page was doing
    (its status lines and which listings it has), so a failure on CI can be read from the log."""

    def ready(d) -> bool:
        box = d.find_element(By.ID, "error")
        if box.is_displayed():
            raise AssertionError(f"the page shows an error: {box.text!r}")
        found = {role: len(faces_in(d, role)) for role in counts}
        return all(found[r] == n if exact else found[r] >= n for r, n in counts.items())

    try:
        wait(driver, ready)
    except TimeoutException:
        page = driver.execute_script(
            "return {status: [...document.querySelectorAll('[id$=-status]')]"
            ".map(e => e.id + ': ' + e.textContent),"
            " listSeq: state.listSeq, media: Object.keys(state.media).filter(k => state.media[k]),"
            " engine: document.getElementById('engine').value}"
        )
        raise AssertionError(f"faces {counts} never listed; the page: {page}") from None


def error_text(driver) -> str:
    box = wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, "#error[role=alert]")), 60)
    return box.text


def loaded_urls(driver) -> list[str]:
    return driver.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]"
    )


def assert_only_this_origin(driver, server) -> None:
    foreign = [u for u in loaded_urls(driver) if not u.startswith((server.url + "/", "data:", "blob:"))]
    assert foreign == []


def drop_file(driver, role: str, path: Path) -> None:
    """Drop a file on a drop zone, as a drag from the desktop would (WebDriver cannot drag files
    from outside the page, so the drop event is dispatched with a real File in its DataTransfer)."""
    driver.execute_script(
        """
        const [role, data] = arguments;
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], "dropped.jpg", { type: "image/jpeg" }));
        const zone = document.querySelector(`.drop[data-role=${role}]`);
        for (const type of ["dragover", "drop"]) {
          zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
        """,
        role,
        base64.b64encode(path.read_bytes()).decode("ascii"),
    )


def wait_for_download(directory: Path, name: str) -> Path:
    path = directory / name
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and not list(directory.glob("*.crdownload")):
            return path
        time.sleep(0.1)
    raise AssertionError(f"no download {name}: {sorted(p.name for p in directory.iterdir())}")


def swap_and_wait(driver):
    """Click Swap and wait for the result; an error shown instead fails with its text."""
    driver.find_element(By.ID, "swap").click()
    wait(driver, EC.any_of(
        EC.visibility_of_element_located((By.CSS_SELECTOR, "#results #result")),
        EC.visibility_of_element_located((By.ID, "error")),
    ))
    assert not driver.find_element(By.ID, "error").is_displayed(), driver.find_element(By.ID, "error").text
    return driver.find_element(By.CSS_SELECTOR, "#results #result")


def test_pick_click_swap_download(serve, browser, swapper, samples):
    from sample_recipe import SAMPLE_GIF_DELAYS_MS

    server = serve(swapper)
    open_page(browser, server.url + "/")
    browser.shot("01-page")
    browser.find_element(By.ID, "source-file").send_keys(str(samples.source))
    browser.find_element(By.ID, "target-file").send_keys(str(samples.gif))
    wait_for_faces(browser, source=1, target=2)
    browser.shot("02-faces")
    target_face = {int(b.get_attribute("data-face-index")): b for b in faces_in(browser, "target")}
    target_face[1].click()
    target_face[0].click()
    assert [target_face[i].get_attribute("aria-pressed") for i in (0, 1)] == ["true", "true"]
    assert browser.find_element(By.ID, "input-faces-index").get_attribute("value") == "1,0"
    assert "1, 0" in browser.find_element(By.ID, "order").text
    browser.shot("03-chosen")

    result = swap_and_wait(browser)
    assert result.tag_name == "img"
    wait(browser, lambda d: "frames" in d.find_element(By.ID, "result-meta").text)
    browser.shot("04-result")
    # progress counted the frames: done / total = 48 / 48
    bar = browser.find_element(By.CSS_SELECTOR, "progress#job-progress")
    frames = len(SAMPLE_GIF_DELAYS_MS)
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == (str(frames), str(frames))
    assert swapper.swaps[-1].input_faces_index == "1,0" and swapper.swaps[-1].source_faces_index == "0"

    link = browser.find_element(By.CSS_SELECTOR, "a#download")
    assert link.get_attribute("download") == f"{samples.gif.stem}-swapped.gif"
    link.click()
    downloaded = wait_for_download(browser.downloads, f"{samples.gif.stem}-swapped.gif")
    with Image.open(downloaded) as im:
        assert im.format == "GIF"
        delays = [frame.info["duration"] for frame in ImageSequence.Iterator(im)]
    assert delays == list(SAMPLE_GIF_DELAYS_MS)
    # the page's own figures, read back from the result by the browser's decoder
    meta = browser.find_element(By.ID, "result-meta").text
    assert f"{frames} frames" in meta and f"{sum(SAMPLE_GIF_DELAYS_MS) / 1000:.2f} s" in meta
    assert_only_this_origin(browser, server)


def test_several_source_photos_are_one_identity(serve, browser, swapper, samples, tmp_path):
    """Several photos picked at once go to the server as one list (one identity): two of one
    person swap, and a photo of somebody else among them is refused with the server's message."""
    from sample_recipe import _t1_rgb

    astro = Image.open(samples.source).convert("RGB")
    same = [tmp_path / "front.png", tmp_path / "mirror.png"]
    astro.save(same[0])
    astro.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(same[1])
    other = tmp_path / "someone-else.png"
    Image.fromarray(_t1_rgb()[250:450, 400:620]).save(other)  # t1's front man
    still = tmp_path / "still.png"
    with Image.open(samples.gif) as im:
        im.convert("RGB").save(still)
    server = serve(swapper)
    open_page(browser, server.url + "/")
    browser.find_element(By.ID, "target-file").send_keys(str(still))
    browser.find_element(By.ID, "source-file").send_keys("\n".join(str(p) for p in same))
    wait_for_faces(browser, source=1, target=2)
    wait(browser, lambda d: "2 photos of one person" in d.find_element(By.ID, "source-status").text)
    assert all(not b.is_enabled() for b in faces_in(browser, "source"))  # an identity is face 0
    browser.shot("07-two-photos")
    done = len(swapper.sources)
    swap_and_wait(browser)
    sent = swapper.sources[done]
    assert isinstance(sent, list) and [bytes(b) for b in sent] == [p.read_bytes() for p in same]

    browser.find_element(By.ID, "source-file").clear()
    browser.find_element(By.ID, "source-file").send_keys("\n".join(str(p) for p in (same[0], other)))
    wait(browser, lambda d: "2 photos of one person" in d.find_element(By.ID, "source-status").text)
    browser.find_element(By.ID, "swap").click()
    text = error_text(browser)
    browser.shot("08-someone-else")
    assert "photo 1" in text or "someone-else" in text or "not the same person" in text, text


def test_a_video_result_plays_with_controls_and_sound(serve, browser, swapper, samples):
    """A video target: the result is a ``<video controls>`` that is not muted, the page reads its
    length and size back from the browser's decoder, and the download keeps the audio track."""
    import av

    server = serve(swapper)
    open_page(browser, server.url + "/")
    browser.find_element(By.ID, "source-file").send_keys(str(samples.source))
    browser.find_element(By.ID, "target-file").send_keys(str(samples.video))
    wait_for_faces(browser, source=1, target=1)
    result = swap_and_wait(browser)
    assert result.tag_name == "video"
    flags = browser.execute_script("return [arguments[0].controls, arguments[0].muted]", result)
    assert flags == [True, False]
    with av.open(str(samples.video)) as container:
        stream = container.streams.video[0]
        seconds = float(stream.duration * stream.time_base)
        size = f"{stream.codec_context.width}×{stream.codec_context.height}"
    wait(browser, lambda d: " s · " in d.find_element(By.ID, "result-meta").text)
    meta = browser.find_element(By.ID, "result-meta").text
    browser.shot("09-video")
    assert f"{seconds:.2f} s" in meta and size in meta, meta
    link = browser.find_element(By.CSS_SELECTOR, "a#download")
    assert link.get_attribute("download") == f"{samples.video.stem}-swapped.mp4"
    link.click()
    downloaded = wait_for_download(browser.downloads, f"{samples.video.stem}-swapped.mp4")
    with av.open(str(downloaded)) as container:
        assert container.streams.video and container.streams.audio  # the sound is kept


def test_the_restorer_list_holds_what_is_installed_with_the_hosted_default_chosen(serve, browser, tmp_path):
    """The hosted API's restorer name (``codeformer-v0.1.0.pth``) preselects CodeFormer when it is
    installed; without it, only "none" is offered."""
    from selenium.webdriver.support.ui import Select

    from kit.synthetic_swap import build_codeformer

    def restorers(models_dir: Path) -> tuple[list[str], str]:
        swapper = RecordingSwapper(FaceSwapper(models_dir=models_dir, engine="classic"))
        server = serve(swapper, default_face_restore="codeformer-v0.1.0.pth")  # the hosted default
        open_page(browser, server.url + "/")
        wait(browser, lambda d: len(Select(d.find_element(By.ID, "face-restore")).options) > 0)
        chooser = Select(browser.find_element(By.ID, "face-restore"))
        chosen = chooser.first_selected_option.get_attribute("value")
        return [o.get_attribute("value") for o in chooser.options], chosen

    bare = tmp_path / "bare"
    bare.mkdir()
    assert restorers(bare) == (["none"], "none")  # CodeFormer not installed: nothing else offered
    full = tmp_path / "full"
    full.mkdir()
    build_codeformer(full / "codeformer.onnx")
    assert restorers(full) == (["none", "codeformer"], "codeformer")


def test_a_target_given_by_url_is_fetched_by_the_server(serve, browser, swapper, samples, loopback_server):
    """The URL field: the server fetches the target (here from a loopback address, which this
    server allows), lists its faces and swaps it: the page sends the URL, not the bytes."""
    from kit.server import Route

    loopback_server.routes["/clip.gif"] = Route(body=samples.gif.read_bytes())
    url = loopback_server.url("/clip.gif")
    server = serve(swapper, allow_loopback_urls=True)
    open_page(browser, server.url + "/")
    browser.find_element(By.ID, "source-file").send_keys(str(samples.source))
    browser.find_element(By.ID, "target-url").send_keys(url)
    browser.find_element(By.ID, "target-url-load").click()
    wait_for_faces(browser, source=1, target=2)
    done = len(swapper.targets)
    swap_and_wait(browser)
    assert len(swapper.targets) == done + 1 and swapper.targets[-1] == samples.gif.read_bytes()
    # fetched by the server twice (the faces listing, then the swap): the page sent the URL
    assert [r["path"] for r in loopback_server.requests] == ["/clip.gif", "/clip.gif"]
    assert browser.find_element(By.CSS_SELECTOR, "a#download").get_attribute("download") == "clip-swapped.gif"


class HeldSwapper(RecordingSwapper):
    """Lists faces for real; a swap reports 1 of 10 frames, then waits for its cancel event (the
    server's DELETE sets it) and records whether it came: a job only a Cancel can end."""

    def __init__(self, inner: FaceSwapper) -> None:
        super().__init__(inner)
        self.cancelled = threading.Event()

    def swap(self, source, target, output=None, *, on_progress=None, cancel=None, **kwargs):
        from frameswap.errors import CancelledError

        on_progress(1, 10)
        if cancel.wait(WAIT_S):
            self.cancelled.set()
            raise CancelledError("cancelled")
        raise AssertionError("the page's Cancel never reached the job")


def test_cancel_stops_the_running_job(serve, browser, swapper, samples):
    held = HeldSwapper(swapper.inner)
    server = serve(held)
    open_page(browser, server.url + "/")
    browser.find_element(By.ID, "source-file").send_keys(str(samples.source))
    browser.find_element(By.ID, "target-file").send_keys(str(samples.gif))
    wait_for_faces(browser, source=1, target=2)
    browser.find_element(By.ID, "swap").click()
    wait(browser, lambda d: d.find_element(By.ID, "job-status").text == "1 / 10 frames")
    job_id = browser.execute_script("return state.job")
    cancel = browser.find_element(By.ID, "cancel")
    assert cancel.is_enabled()
    cancel.click()
    wait(browser, lambda d: d.find_element(By.ID, "job-status").text == "Cancelled")
    browser.shot("05-cancelled")
    assert held.cancelled.wait(30)  # the worker's job saw the cancel
    assert not browser.find_element(By.ID, "cancel").is_enabled()
    assert browser.find_element(By.ID, "swap").is_enabled()
    assert not browser.find_element(By.ID, "error").is_displayed()
    gone = requests.get(f"{server.url}/v2/jobs/{job_id}", timeout=10)
    assert gone.status_code == 404  # DELETE removed the job


def test_drop_keyboard_and_a_narrow_screen(serve, browser, swapper, samples):
    server = serve(swapper)
    browser.set_window_size(360, 800)
    open_page(browser, server.url + "/")
    drop_file(browser, "target", samples.source)  # a still: quick to list
    wait_for_faces(browser, exact=True, target=1)
    picked = browser.execute_script("return document.getElementById('target-file').files[0].name")
    assert picked == "dropped.jpg"
    browser.shot("05-narrow")
    # readable at 360 px: nothing wider than the viewport (no sideways scrolling)
    width, scroll_width = browser.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    assert width <= 360 and scroll_width <= width
    # keyboard: Tab reaches the face buttons, Space chooses one
    first = faces_in(browser, "target")[0]
    keys = ActionChains(browser)
    for _ in range(40):
        keys.send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element.get_attribute("data-face-index") is not None:
            break
    assert browser.switch_to.active_element == first
    keys.send_keys(Keys.SPACE).perform()
    assert first.get_attribute("aria-pressed") == "true"
    assert browser.find_element(By.ID, "input-faces-index").get_attribute("value") == "0"
    for control in browser.find_elements(By.CSS_SELECTOR, "input, select"):  # every control is labelled
        control_id = control.get_attribute("id")
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{control_id}']"), control_id


def test_a_bad_file_shows_the_servers_error(serve, browser, swapper, tmp_path):
    server = serve(swapper)
    bad = tmp_path / "broken.gif"
    bad.write_bytes(b"GIF89a but nothing after the header")
    expected = requests.post(
        server.url + "/v1/faces", json={"image": _data_uri(bad, "image/gif")}, timeout=60
    ).json()
    open_page(browser, server.url + "/")
    browser.find_element(By.ID, "target-file").send_keys(str(bad))
    text = error_text(browser)
    browser.shot("06-bad-file")
    assert expected["error"] in text and expected["hint"] in text


def test_with_an_api_key_the_page_asks_and_a_wrong_key_shows_the_401(serve, browser, swapper):
    server = serve(swapper, api_keys=("right-key",))
    expected = requests.get(server.url + "/v1/info", headers={"x-api-key": "wrong-key"}, timeout=10)
    assert expected.status_code == 401
    open_page(browser, server.url + "/")
    key = wait(browser, EC.visibility_of_element_located((By.ID, "api-key")), 30)
    browser.shot("07-key-asked")
    key.send_keys("wrong-key", Keys.ENTER)
    assert expected.json()["error"] in error_text(browser)
    browser.shot("08-wrong-key")
    key = browser.find_element(By.ID, "api-key")
    key.clear()
    key.send_keys("right-key", Keys.ENTER)
    wait(browser, EC.invisibility_of_element_located((By.ID, "api-key")), 30)
    assert browser.find_element(By.ID, "error").is_displayed() is False
    assert browser.execute_script("return sessionStorage.getItem('frameswap-api-key')") == "right-key"
    assert not any("key" in url for url in loaded_urls(browser))  # never in a URL


def test_docs_list_the_swap_operation_offline(serve, browser, swapper):
    server = serve(swapper)
    open_page(browser, server.url + "/docs")
    wait(browser, lambda d: "/v1/models/faceswap-v2" in d.find_element(By.ID, "swagger-ui").text, 60)
    browser.shot("09-docs")
    text = browser.find_element(By.ID, "swagger-ui").text
    assert "Swap faces (sync)" in text and "/v1/faces" in text
    assert_only_this_origin(browser, server)


def _data_uri(path: Path, content_type: str) -> str:
    return f"data:{content_type};base64," + base64.b64encode(path.read_bytes()).decode("ascii")

