"""Render the README's screenshot of the web page with a result (docs/images/web_page.jpg).

    python docs/make_web_screenshot.py [docs/images/web_page.jpg] [--width 960]

Public-domain pictures only: the target is a short GIF of two copies of the NASA astronaut photo
(``skimage.data.astronaut``, one mirrored and colour-graded), the source is
``samples/source_astronaut.jpg``. It starts the real server (classic engine) on a loopback port,
drives Debian's Chromium (``chromium`` + ``chromium-driver``) through Selenium as the browser tests
do: pick both files, click face 1 then face 0, swap, wait, screenshot the whole page.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import uvicorn
from PIL import Image

from frameswap.api import FaceSwapper
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings

ROOT = Path(__file__).resolve().parent.parent


def crew_gif(path: Path) -> Path:
    """Two astronauts on a dark backdrop, drifting a little over 12 frames."""
    from skimage.data import astronaut

    photo = astronaut()[0:330, 40:420]
    left = cv2.resize(photo, (240, 208), interpolation=cv2.INTER_AREA)
    right = cv2.resize(photo[:, ::-1], (200, 173), interpolation=cv2.INTER_AREA)
    right = np.clip(right * np.array([0.8, 0.95, 1.2]), 0, 255).astype(np.uint8)
    frames = []
    for i in range(12):
        canvas = np.full((300, 480, 3), (36, 42, 56), np.uint8)
        canvas[40:248, 10 + 2 * i : 250 + 2 * i] = left
        canvas[70 + i : 243 + i, 270 - i : 470 - i] = right
        frames.append(Image.fromarray(canvas).convert("P", palette=Image.Palette.ADAPTIVE))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[80] * 11 + [400], loop=0)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "docs/images/web_page.jpg")
    parser.add_argument("--width", type=int, default=960)
    args = parser.parse_args()
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        target = crew_gif(work / "crew.gif")
        app = create_app(ServerSettings(), swapper=FaceSwapper(models_dir=work, engine="classic"))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--hide-scrollbars", f"--window-size={args.width},2400",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
            options.add_argument(arg)
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/usr/bin/chromedriver"))
        try:
            driver.get(f"http://127.0.0.1:{sock.getsockname()[1]}/")
            driver.find_element(By.ID, "source-file").send_keys(str(ROOT / "samples/source_astronaut.jpg"))
            driver.find_element(By.ID, "target-file").send_keys(str(target))
            wait = WebDriverWait(driver, 300)
            faces = "#target-faces button"
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, faces)) >= 2)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#source-faces button[data-face-index]"))
            for index in ("1", "0"):
                driver.find_element(By.CSS_SELECTOR, f"{faces}[data-face-index='{index}']").click()
            driver.find_element(By.ID, "swap").click()
            wait.until(lambda d: "frames" in d.find_element(By.ID, "result-meta").text)
            height = driver.execute_script(
                "return Math.ceil(document.querySelector('main').getBoundingClientRect().bottom + scrollY)"
            )
            driver.execute_script("scrollTo(0, 0); document.activeElement.blur()")
            time.sleep(0.3)
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "jpeg", "quality": 85, "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": args.width, "height": height, "scale": 1},
            })
            args.out.write_bytes(base64.b64decode(shot["data"]))
        finally:
            driver.quit()
            server.should_exit = True
    print(args.out)


if __name__ == "__main__":
    main()
