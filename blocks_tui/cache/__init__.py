"""The HDF5 cache: the only package that touches h5py.

Producers (the demo, ``blocks-tui extract``) write through :class:`CacheWriter`;
everything else opens a cache with :func:`open_cache` and asks it for arrays.
The format is documented field by field in the README ("Cache format").
"""

from ..errors import CacheError
from .reader import Cache, DatasetInfo, HierarchyArrays, LayerResponses, ResultSet, open_cache
from .schema import FORMAT_NAME, FORMAT_VERSION
from .writer import CacheWriter, partial_path
from .triage import (
    CacheIdentity,
    OutlierKey,
    SampleKey,
    TriageEntry,
    TriageError,
    TriageStore,
    triage_path,
)

__all__ = [
    "Cache",
    "CacheError",
    "CacheWriter",
    "DatasetInfo",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HierarchyArrays",
    "LayerResponses",
    "ResultSet",
    "open_cache",
    "partial_path",
    "CacheIdentity",
    "OutlierKey",
    "SampleKey",
    "TriageEntry",
    "TriageError",
    "TriageStore",
    "triage_path",
]
