"""The documentation site builds with ``mkdocs build --strict`` and shows its figures.

Also: the complete code blocks of the home page and the quick start run, and the MkDocs
hooks that generate the examples gallery and rewrite numpydoc habits do what they say.
"""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    "index", "installation", "quickstart", "estimators", "keras", "reproducibility",
    "examples", "api", "forecasting", "performance", "gpu", "scaling",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src", ""))


def _images(html_file):
    parser = _Images()
    parser.feed(html_file.read_text(encoding="utf-8"))
    return parser.sources


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def test_site_builds_with_every_page(site):
    missing = [page for page in PAGES if not (site / f"{page}.html").is_file()]
    assert not missing


def test_every_image_of_every_page_is_a_png_that_exists(site):
    checked = 0
    for page in site.rglob("*.html"):
        for src in _images(page):
            url = urlparse(src)
            if url.scheme or src.startswith("//"):
                continue  # not a file of the site
            target = (page.parent / unquote(url.path)).resolve()
            assert target.is_file(), f"{page.name} shows {src}, which does not exist"
            if target.suffix == ".png":
                assert target.read_bytes()[:8] == PNG_SIGNATURE, f"{src} is not a PNG"
            checked += 1
    assert checked


def test_home_and_gallery_show_the_figures_of_every_example(site):
    assert any(src.endswith(".png") for src in _images(site / "index.html"))
    gallery = " ".join(_images(site / "examples.html"))
    for script in sorted((ROOT / "examples").glob("*.py")):
        assert f"{script.stem}" in gallery, (
            f"examples.html shows no figure of {script.name}: run "
            f"SKFORECAST_LSTM_OUTDIR=docs/img/examples python examples/{script.name}"
        )


def test_api_reference_is_generated_from_the_docstrings(site):
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in ["LSTMRegressor", "LSTMClassifier", "n_iter_no_change", "predict_proba",
                 "state_dict", "summary"]:
        assert name in html
    assert ":meth:" not in html and ":class:" not in html  # Sphinx roles were rewritten


def _python_blocks(page):
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.parametrize("page", ["index.md", "quickstart.md"])
def test_code_of_the_page_runs(page, capsys):
    blocks = _python_blocks(page)
    assert blocks
    for code in blocks:
        exec(compile(code, page, "exec"), {"__name__": "__docs__"})
    assert capsys.readouterr().out


def test_torch_interop_code_of_the_estimators_page_runs(capsys):
    pytest.importorskip("torch")
    (code,) = [block for block in _python_blocks("estimators.md") if "import torch" in block]
    exec(compile(code, "estimators.md", "exec"), {"__name__": "__docs__"})
    assert float(capsys.readouterr().out) < 1e-5


def test_numpydoc_rewrites():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from griffe_numpydoc import rewrite
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = (
        "See :meth:`predict` and :class:`~skforecast_lstm.LSTMRegressor`.\n\n"
        "beta_1, beta_2 : float, default=0.9, 0.999\n"
        "    Adam's constants.\n"
        "epsilon : float, default=1e-7\n"
    )
    assert rewrite(text) == (
        "See ``predict`` and ``LSTMRegressor``.\n\n"
        "beta_1 : float, default=0.9\n    Adam's constants.\n"
        "beta_2 : float, default=0.999\n    Adam's constants.\n"
        "epsilon : float, default=1e-7"
    )
