"""MkDocs hook: the examples gallery.

``examples.md`` is generated from ``examples/*.py``: each script's docstring,
its figure (a PNG named after the script, anywhere under ``docs/``), the output
of its full run (``<script>.txt`` beside it, if there is one) and its source.
A new example appears in the gallery without editing any page.
"""

import ast
import posixpath
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]

def _figures(stem, docs_dir):
    """PNGs under ``docs/`` whose name starts with the example's name."""
    return sorted(
        p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob(f"{stem}*.png")
    )


def _docstring_markdown(text):
    """Turn an example's docstring into Markdown (reST's ``::`` becomes ``:``)."""
    lines = text.strip().splitlines()
    body = "\n".join(line[:-1] if line.endswith("::") else line for line in lines[1:])
    # the page says once what the environment variables do
    paragraphs = [p for p in body.split("\n\n") if "SKFORECAST_LSTM_" not in p]
    return lines[0].strip().rstrip("."), "\n\n".join(paragraphs).strip()


def gallery(examples_dir, docs_dir):
    """Write the Markdown of the examples page."""
    parts = [
        "# Examples\n",
        "Scripts in the repository's `examples/` folder. Each one runs as it is, prints its "
        "results and writes its figure into the current folder (or into "
        "`SKFORECAST_LSTM_OUTDIR`). `SKFORECAST_LSTM_QUICK=1` makes them run in seconds on "
        "tiny data; the test suite runs every one of them that way, so none of them rots.\n",
        "The figures and outputs below are those of the full runs, made with:\n",
        "```bash\nfor f in examples/*.py; do\n"
        "    SKFORECAST_LSTM_OUTDIR=docs/img/examples python \"$f\" \\\n"
        "        | tee \"docs/img/examples/$(basename \"$f\" .py).txt\"\ndone\n```\n",
    ]
    for script in sorted(examples_dir.glob("*.py")):
        module = ast.parse(script.read_text(encoding="utf-8"))
        title, body = _docstring_markdown(ast.get_docstring(module) or script.stem)
        parts.append(f"## {title}\n\n`examples/{script.name}`\n\n{body}\n")
        for figure in _figures(script.stem, docs_dir):
            src = posixpath.relpath(figure, ".")
            # the figure links to itself: full size in the browser
            parts.append(f"[![Figure written by {script.name}]({src})]({src})\n")
        for output in sorted(docs_dir.rglob(f"{script.stem}.txt")):
            text = output.read_text(encoding="utf-8").rstrip()
            parts.append('???+ info "Output of the full run"\n\n    ```text\n'
                         + "\n".join(f"    {line}" for line in text.splitlines())
                         + "\n    ```\n")
        parts.append(
            f'??? example "Source of {script.name}"\n\n'
            f'    ```python\n    --8<-- "examples/{script.name}"\n    ```\n'
        )
    return "\n".join(parts)


def on_files(files, config):
    """Add the generated gallery."""
    docs_dir = Path(config["docs_dir"])
    if files.get_file_from_path("examples.md") is None:
        content = gallery(ROOT / "examples", docs_dir)
        files.append(File.generated(config, "examples.md", content=content))
    return files
