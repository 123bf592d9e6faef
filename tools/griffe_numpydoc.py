"""Griffe extension: numpydoc habits that Markdown does not render, made readable.

The docstrings are written for numpydoc and ``help()``; the API reference renders
them with mkdocstrings. Two habits read badly there, and are rewritten on the
fly (the sources are not changed):

- Sphinx roles such as ``:meth:`predict``` or ``:class:`LSTMRegressor```
  become code spans.
- A parameter line that documents several parameters with one default each,
  ``beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-7``, becomes one
  line per parameter with its own default, so the table shows each default once.
"""

import re

import griffe

ROLE = re.compile(r":(?:py:)?(?:meth|func|class|attr|mod|obj|data|exc):`~?([^`]+)`")
GROUPED = re.compile(
    r"^(?P<indent>\s*)(?P<names>\w+(?:,\s*\w+)+)\s*:\s*(?P<type>[^\n]*?),\s*"
    r"default=(?P<defaults>.+)$"
)


def _split_grouped(text):
    """One parameter line per name where names and defaults pair up."""
    lines = text.splitlines()
    out = []
    i = 0
    while i < len(lines):
        match = GROUPED.match(lines[i])
        names = [n.strip() for n in match["names"].split(",")] if match else []
        defaults = [d.strip() for d in match["defaults"].split(",")] if match else []
        if not match or len(names) != len(defaults):
            out.append(lines[i])
            i += 1
            continue
        description = []
        i += 1
        while i < len(lines) and lines[i].strip() and (
            len(lines[i]) - len(lines[i].lstrip()) > len(match["indent"])
        ):
            description.append(lines[i])
            i += 1
        for name, default in zip(names, defaults):
            out.append(f"{match['indent']}{name} : {match['type']}, default={default}")
            out.extend(description)
    return "\n".join(out)


def rewrite(text):
    """Apply both rewrites to a docstring's text."""
    return _split_grouped(ROLE.sub(lambda m: f"``{m[1].split('.')[-1]}``", text))


class NumpydocForMarkdown(griffe.Extension):
    """Rewrite the docstrings of every loaded object (see the module docstring)."""

    def on_instance(self, *, obj, **kwargs):
        """Rewrite ``obj``'s docstring, if it has one."""
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
