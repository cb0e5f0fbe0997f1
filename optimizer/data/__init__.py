"""Datasets: the data dictionary, loading, validation and the shipped-dataset registry."""

from optimizer.data.loader import Dataset, load_dataset_dir
from optimizer.data.registry import get_dataset, list_datasets, resolve_dataset_path

__all__ = ["Dataset", "get_dataset", "list_datasets", "load_dataset_dir", "resolve_dataset_path"]
