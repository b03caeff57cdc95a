"""The built site as a reader's browser shows it: headless Chromium opens the front page, a
gallery page and an API page, served over HTTP, and checks that each renders with its images
loaded, no broken local link, no script error and no code block wider than its box.

Chromium is Debian's ``chromium`` and ``chromium-driver``; the fixture installs them with
apt-get where they are missing and it can (as root), and skips, saying why, where it cannot.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from urllib.parse import urldefrag, urlsplit

import pytest
from docs_site import read_page

import skmatnet

PAGES = ["index.html", "auto_examples/basics/tutorial.html",
         "generated/skmatnet.BRNetRegressor.html"]
PACKAGES = ["chromium", "chromium-driver"]


def _browser_paths():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def _install_chromium() -> str | None:
    """Install Debian's Chromium; the reason it could not, or None once it is there."""
    if shutil.which("apt-get") is None:
        return "Chromium is not installed and there is no apt-get to install it"
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if prefix and shutil.which("sudo") is None:
        return "Chromium is not installed, and installing it needs root (no sudo here)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*prefix, "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:  # a fresh machine may need the package lists first
        subprocess.run([*prefix, "apt-get", "update"], capture_output=True, env=env,
                       timeout=900)
        result = subprocess.run(install, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0:
        return f"apt-get could not install {' '.join(PACKAGES)}: {result.stderr[-500:]}"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if _browser_paths() is None:
        reason = _install_chromium()
        if reason or _browser_paths() is None:
            pytest.skip(reason or "Chromium was installed but is not on PATH")
    chromium, chromedriver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def site(built_docs):
    assert built_docs.returncode == 0, built_docs.stderr[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(built_docs.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", built_docs.html
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except ConnectionError:  # the browser dropped a request it no longer needed
            pass


_IMAGES_LOADED = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
images.forEach(img => { img.loading = "eager"; });
Promise.all(images.map(img => img.complete ? null :
    new Promise(ok => { img.onload = img.onerror = ok; }))).then(() => done(
  images.map(img => [img.currentSrc || img.src, img.complete && img.naturalWidth > 0])));
"""

_CODE_WIDER_THAN_BOX = """
return Array.from(document.querySelectorAll("pre"))
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.slice(0, 80));
"""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_chromium(browser, site, page):
    base, root = site
    browser.get(base + page)
    # get() can return while a page is still loading when the machine is busy (seen once with
    # both cores taken by other tests): wait, within the page-load timeout, then check.
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60, poll_frequency=0.2).until(
        lambda driver: driver.execute_script("return document.readyState") == "complete")
    assert browser.execute_script("return document.readyState") == "complete"
    assert "skmatnet" in browser.title, browser.title
    assert browser.find_element("css selector", ".skmatnet-version").text == \
        f"v{skmatnet.__version__}"

    browser.set_script_timeout(30)
    images = browser.execute_async_script(_IMAGES_LOADED)
    missing = [src for src, loaded in images if not loaded]
    assert not missing, f"images that did not load on {page}: {missing}"

    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    local = sorted({link for link in links if link.startswith(base)})
    assert local, page
    broken = []
    for link in local:
        address, fragment = urldefrag(link)
        status = _status(address)
        if status != 200:
            broken.append(f"{link}: HTTP {status}")
        elif fragment and address.endswith(".html"):
            target = root / urlsplit(address).path.lstrip("/")
            if fragment not in read_page(target).ids:
                broken.append(f"{link}: no such anchor")
    assert not broken, f"broken links on {page}:\n" + "\n".join(broken)

    # The browser asks for /favicon.ico by itself; the site's pages never link it.
    errors = [entry["message"] for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]]
    assert not errors, f"script or load errors on {page}: {errors}"
    assert browser.execute_script(_CODE_WIDER_THAN_BOX) == [], page


def test_gallery_page_shows_the_output_and_the_figure(browser, site):
    base, _ = site
    browser.get(base + "auto_examples/basics/tutorial.html")
    output = browser.find_elements("css selector", ".sphx-glr-script-out")
    assert output and "identical: True" in " ".join(o.text for o in output)
    figure = browser.find_element("css selector", "img.sphx-glr-single-img")
    assert figure.size["width"] > 200 and figure.size["height"] > 200
