"""Known-hash lists: read (and write) the formats hash-sharing programmes use.

>>> from photosieve.lists import read_list  # doctest: +SKIP
>>> ncmec = read_list("gs://bucket/ncmec.csv.gz", open_fn=FileSystems.open)  # doctest: +SKIP

Formats (one module each; :func:`read_list` sniffs which):

========================  =====================================================
``text``                  one hash a line, or ``<algorithm> <hash>``
                          (ThreatExchange local-file form); ``#`` comments
``csv`` / ``tsv``         header row naming a hash column (``hash``,
                          ``signal_str``, ``pdq``, ``md5``...), optionally
                          ``algorithm``, ``id``, ``label(s)``/``tags``,
                          ``list``/``bank``, ``quality``; other columns kept
``threatexchange``        ``signal_type,signal_str,collab,category,tags``
``hma``                   headerless ``hash,id,timestamp,tags`` (HMA banks)
``parquet``               the same column names; hex or raw-byte hashes
``jsonl``                 one JSON object per line, the same key names
========================  =====================================================

Any of them may be gzip-compressed. See :mod:`photosieve.lists.validate`
for how the algorithm of each line is decided and what counts as a problem.
"""

from photosieve.lists.hash_list import AlgorithmHashes, HashList, ListProblem, ProblemKind
from photosieve.lists.read import FORMATS, read_list, sniff_format
from photosieve.lists.source import OpenFn, local_open
from photosieve.lists.spec import ListRole, ListSpec, load_list_specs, read_lists, read_lists_entries
from photosieve.lists.write import WRITE_FORMATS, write_list

__all__ = [
    "FORMATS",
    "WRITE_FORMATS",
    "AlgorithmHashes",
    "HashList",
    "ListProblem",
    "ListRole",
    "ListSpec",
    "OpenFn",
    "ProblemKind",
    "load_list_specs",
    "local_open",
    "read_list",
    "read_lists",
    "read_lists_entries",
    "sniff_format",
    "write_list",
]
