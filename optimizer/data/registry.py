"""Find datasets by name (shipped) or by path (a user's own), and cache loaded ones."""

from __future__ import annotations

import os
import re
from pathlib import Path

from optimizer.data.loader import Dataset, load_dataset_dir
from optimizer.errors import ScenarioError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_CACHE: dict[tuple[str, float], Dataset] = {}


def datasets_root() -> Path:
    """The directory holding shipped datasets.

    COALITION_DATASETS_DIR wins; then the copy inside an installed wheel; then the
    repository's `datasets/` beside the package (editable installs and checkouts).
    """
    env = os.environ.get("COALITION_DATASETS_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).resolve().parents[1] / "_datasets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "datasets"


def list_datasets() -> list[str]:
    """Names of the shipped datasets."""
    root = datasets_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "countries.csv").is_file())


def resolve_dataset_path(name_or_path: str, allow_paths: bool = True) -> Path:
    """A shipped dataset name or (if allowed) a directory path -> the directory.

    Names may not contain separators or dots, so they cannot reach outside the datasets
    directory; the REST service calls this with allow_paths=False.
    """
    if NAME_PATTERN.fullmatch(name_or_path):
        candidate = datasets_root() / name_or_path
        if candidate.is_dir():
            return candidate
        if not allow_paths or not Path(name_or_path).is_dir():
            known = ", ".join(list_datasets()) or "none"
            raise ScenarioError(
                f"unknown dataset '{name_or_path}'; shipped datasets: {known}", location="scenario.dataset"
            )
    if not allow_paths:
        raise ScenarioError(
            "dataset must be the name of a shipped dataset (letters, digits, '_' or '-'); paths are not accepted here",
            location="scenario.dataset",
        )
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        raise ScenarioError(f"dataset directory '{name_or_path}' does not exist", location="scenario.dataset")
    return path


def get_dataset(name_or_path: str, allow_paths: bool = True) -> Dataset:
    """Load (or reuse) a validated dataset; reloaded when its files change."""
    path = resolve_dataset_path(name_or_path, allow_paths=allow_paths).resolve()
    stamp = max((f.stat().st_mtime for f in path.glob("*.csv")), default=0.0)
    key = (str(path), stamp)
    if key not in _CACHE:
        name = name_or_path if NAME_PATTERN.fullmatch(name_or_path) else path.name
        _CACHE[key] = load_dataset_dir(path, name=name)
    return _CACHE[key]
