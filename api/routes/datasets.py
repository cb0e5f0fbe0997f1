"""Shipped datasets and their coalition presets (names only: paths are never accepted)."""

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import ReadCaller
from api.errors import ApiError, coalition_error, invalid
from api.schemas import CoalitionPreset, Country, DatasetDetail, DatasetSummary, error_responses
from optimizer.data.loader import Dataset
from optimizer.data.registry import NAME_PATTERN, datasets_root, get_dataset, list_datasets
from optimizer.errors import CoalitionError

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["datasets"])

DatasetName = Annotated[
    str,
    Path(
        description="Name of a shipped dataset (letters, digits, '_' or '-').",
        examples=["rare_earths"],
    ),
]


def _load(name: str, field: str) -> Dataset:
    """A shipped dataset by name: 422 for a malformed name, 404 for an unknown one."""
    if not NAME_PATTERN.fullmatch(name):
        raise invalid([(field, "must be a dataset name (letters, digits, '_' or '-'), not a path")])
    if name not in list_datasets():
        known = ", ".join(list_datasets()) or "none"
        raise ApiError(404, "dataset_not_found", f"no dataset '{name}'; datasets: {known}", field=field)
    try:
        return get_dataset(name, allow_paths=False)
    except CoalitionError as exc:
        raise coalition_error(exc, prefix=field) from None


def _scenarios(name: str) -> list[str]:
    return sorted(path.stem for path in (datasets_root() / name / "scenarios").glob("*.yaml"))


def _summary(dataset: Dataset) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "countries": len(dataset.countries),
        "stages": dataset.stages,
        "materials": dataset.materials,
        "coalitions": dataset.coalition_presets(),
        "scenarios": _scenarios(dataset.name),
    }


@router.get("/datasets", response_model=list[DatasetSummary], responses=error_responses(401, 403))
def datasets(caller: ReadCaller) -> list[DatasetSummary]:
    """The shipped datasets with their stages, materials, coalition presets and scenarios."""
    found = []
    for name in list_datasets():
        try:
            found.append(DatasetSummary(**_summary(get_dataset(name, allow_paths=False))))
        except CoalitionError as exc:
            logger.error("shipped dataset %s is invalid: %s", name, exc)
    return found


@router.get(
    "/datasets/{name:path}", response_model=DatasetDetail, responses=error_responses(401, 403, 404, 422)
)
def dataset(
    name: DatasetName,
    caller: ReadCaller,
    material: Annotated[str | None, Query(description="Material for the calibration report.")] = None,
) -> DatasetDetail:
    """One dataset: countries, table sizes, presets, and calibration against published shares."""
    from optimizer.data.calibration import calibration_report

    data = _load(name, "name")
    if material is not None and material not in data.materials:
        raise invalid([("material", f"unknown material '{material}'; the dataset has {data.materials}")])
    chosen = material or ("NdPr" if "NdPr" in data.materials else data.materials[0])
    countries = [
        Country(iso3=row.iso3, name=row.name, groups=list(row.groups or []))
        for row in data.tables["countries"].itertuples(index=False)
    ]
    report = json.loads(calibration_report(data, chosen).to_json(orient="records"))
    return DatasetDetail(
        **_summary(data),
        country_list=countries,
        tables={table: len(frame) for table, frame in data.tables.items()},
        calibration=report,
    )


@router.get("/coalitions", response_model=list[CoalitionPreset], responses=error_responses(401, 403, 404, 422))
def coalitions(
    caller: ReadCaller,
    dataset: Annotated[str | None, Query(description="Only this dataset's presets.")] = None,
) -> list[CoalitionPreset]:
    """Coalition presets of every shipped dataset (or of one)."""
    names = [dataset] if dataset is not None else list_datasets()
    presets = []
    for name in names:
        try:
            data = _load(name, "dataset")
        except ApiError:
            if dataset is not None:
                raise
            continue
        table = data.tables["coalitions"]
        for row in table.itertuples(index=False):
            presets.append(
                CoalitionPreset(
                    dataset=name,
                    name=row.name,
                    members=list(row.members),
                    description=str(getattr(row, "description", "") or ""),
                )
            )
    return presets
