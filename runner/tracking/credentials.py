"""A tracking URI's user and password (`http://user:pass@host`) kept off the screen and out of
the store: a server is shared, and what lands in its tags and artifacts is read by everyone who
can read the experiment. MLflow itself authenticates from the URI, or better from
MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."""

from __future__ import annotations

import re
from pathlib import Path

# scheme://user:password@ (or user@): what any URI in a text carries before its host
# (Hydra's overrides.yaml escapes the colons: `http\://user\:pass@host`)
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*\\?://)[^/@\s'\"]+@")


def redacted(text: str) -> str:
    """The text with every URI's user and password left out: `http://host:5000`."""
    return _USERINFO.sub(r"\g<scheme>", text)


def redact_files(folder: Path) -> None:
    """Rewrite the text files of a folder (Hydra's .hydra: config, overrides, hydra.yaml) that
    carry a URI's credentials, without them, before the folder is logged."""
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.suffix not in (".yaml", ".yml", ".txt", ".json"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        clean = redacted(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
