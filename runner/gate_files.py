"""A gate file sets gate keys only (a rule's, an activation's or a convention's file, its own): checked before
Hydra composes anything.

Gate files are what teachers and students exchange, and Hydra merges a config file wherever its
package says: a gate file headed `# @package _global_`, or whose defaults list names a config
`@_global_`, could set `hydra.callbacks.<x>._target_` to any callable, which Hydra 1.3
instantiates before the app sees the config (`builtins.open` on the store truncated it). The
defaults list of conf/config.yaml places the gate group at `gate` (`gate@gate`), which wins over a
file's header; and here, before Hydra runs, each gate file a command may choose is read as text:
its header, its defaults list (only the project's `_base/` tables and `_self_`) and its keys (the
gate schema's) are checked, and a file that reaches further stops the command in one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser

from runner.config import CONF_DIR, ActivationConfig, ConventionConfig, GateConfig, RuleConfig
from runner.tracking.errors import UsageError

SCHEMAS = {
    "gate": GateConfig,
    "rule": RuleConfig,
    "activation": ActivationConfig,
    "convention": ConventionConfig,
}
HEADER = re.compile(r"^#\s*@package\s*[:\s]\s*(\S+)", re.M)


def check(argv: Sequence[str]) -> None:
    """UsageError naming the first group file (gate, rule, activation, convention) the command line may
    choose that reaches beyond its group's keys."""
    dirs = [*_extra_dirs(argv), CONF_DIR]
    for group in SCHEMAS:
        for choice in _choices(argv, group):
            for folder in dirs:
                path = folder / group / f"{choice}.yaml"
                try:
                    found = path.is_file()
                except (OSError, ValueError):  # a name no file can have: Hydra says there is none
                    break
                if found:
                    _check_file(path, group, choice)
                    break


def _check_file(path: Path, group: str, choice: str) -> None:
    def refuse(why: str) -> None:
        raise UsageError(
            f"{group}={choice}: a {group} file sets {group} keys only, but {why} ({path}); nothing was run"
        )

    text = path.read_text(encoding="utf-8", errors="replace")
    header = HEADER.search(text[:2000])
    if header and header.group(1) not in ("_group_", group):
        refuse(f"its header puts it at `{header.group(1)}`")
    try:
        content = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return  # Hydra says where, when it reads it
    if not isinstance(content, dict):
        return
    keys = {f.name for f in fields(SCHEMAS[group])} | {"defaults"}
    extra = sorted(str(k) for k in content if k not in keys)
    if extra:
        refuse(f"it sets {', '.join(extra)}, no {group} key (allowed: {', '.join(sorted(keys))})")
    for entry in content.get("defaults") or []:
        if entry == "_self_":
            continue
        named, _, package = str(entry).partition("@") if isinstance(entry, str) else ("", "", "")
        base = path.parent / ("" if path.parent.name == "_base" else "_base")
        if not named.startswith("_base/") or package not in ("", "_here_") or "/" in named[6:]:
            refuse(f"its defaults list names `{entry}` (allowed: _base/<table>, _self_)")
        table = base / f"{named[6:]}.yaml"
        if table.is_file() and table != path:
            _check_file(table, group, choice)


def _choices(argv: Sequence[str], group: str) -> Iterator[str]:
    """The files of a group a command may choose: each value its override lists (none without
    one: the default is the project's own)."""
    given = [a for a in argv if a.split("=", 1)[0].lstrip("+~") == group and "=" in a]
    if not given:
        return
    try:
        (override,) = OverridesParser.create().parse_overrides(given[-1:])
        if override.is_sweep_override():
            choices = [str(v) for v in override.sweep_string_iterator()]
        else:
            choices = [] if override.value() is None else [str(override.value())]
    except Exception:  # Hydra reports a bad override itself
        return
    yield from choices


def as_overrides(argv: Sequence[str]) -> list[str]:
    """A command line's overrides for Hydra's compose API (the worksheet's, the checker's), its
    group files checked first: `--config-dir DIR` (or `-cd DIR`) becomes the override that adds
    DIR to the search path, as `python -m runner --config-dir DIR` does."""
    check(argv)
    overrides, given = [], iter(argv)
    for arg in given:
        if arg in ("--config-dir", "-cd") or arg.startswith("--config-dir="):
            folder = arg.split("=", 1)[1] if "=" in arg else next(given, "")
            overrides.append(f"hydra.searchpath=[file://{Path(folder).resolve()}]")
        else:
            overrides.append(arg)
    return overrides


def _extra_dirs(argv: Sequence[str]) -> Iterator[Path]:
    """The folders `--config-dir`/`-cd` and a `hydra.searchpath=[...]` override add."""
    for at, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and at + 1 < len(argv):
            yield Path(argv[at + 1])
        elif arg.startswith("--config-dir="):
            yield Path(arg.split("=", 1)[1])
        elif arg.split("=", 1)[0].lstrip("+") == "hydra.searchpath" and "=" in arg:
            for item in arg.split("=", 1)[1].strip("[]").split(","):
                item = item.strip().strip("'\"")
                if item and not item.startswith("pkg://"):
                    yield Path(item.removeprefix("file://"))
