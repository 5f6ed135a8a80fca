"""columns: which header names mean which role, algorithm aliases, and label splitting."""

from __future__ import annotations

import pyarrow as pa
import pytest

from photosieve.errors import ConfigError
from photosieve.lists.columns import (
    Columns,
    as_strings,
    canonical_algorithm,
    normalise_name,
    split_labels,
)


@pytest.mark.parametrize(
    ("name", "key"),
    [(" Hash-Value ", "hash_value"), ("Signal  Type", "signal_type"), ("pdq", "pdq"), ("", "")],
)
def test_names_are_matched_lower_case_with_spaces_and_dashes_as_underscores(name, key):
    assert normalise_name(name) == key


@pytest.mark.parametrize(
    ("name", "algorithm"),
    [
        ("PDQ", "pdq"),
        ("video_md5", "md5"),
        ("Photo-MD5", "md5"),
        ("SHA-256", "sha256"),
        ("pdq hash", "pdq"),
        ("url", None),
        ("hash", None),
    ],
)
def test_other_tools_names_mean_our_algorithms(name, algorithm):
    assert canonical_algorithm(name) == algorithm


def test_roles_come_from_names_and_the_first_column_of_a_role_wins():
    names = ["Hash", "PDQ", "md5", "Signal-Type", "ID", "id", "Tags", "label", "bank", "Quality"]
    columns = Columns.recognise([*names, "note"])
    assert columns.hashes == [("Hash", None), ("PDQ", "pdq"), ("md5", "md5")]
    assert (columns.algorithm, columns.id, columns.labels, columns.label) == (
        "Signal-Type",
        "ID",
        "Tags",
        "label",
    )
    assert (columns.bank, columns.quality) == ("bank", "Quality")
    assert columns.extra == ["id", "note"]  # a second id column is carried, not lost


def test_a_table_without_a_hash_column_is_refused_naming_what_would_do():
    columns = Columns.recognise(["name", "id"])
    assert columns.hashes == [] and columns.id == "id" and columns.extra == ["name"]
    with pytest.raises(ConfigError) as error:
        columns.check(["name", "id"])
    message = str(error.value)
    assert message.startswith("no hash column among ['name', 'id']; expected one of: hash, ")
    assert "signal_str" in message and message.endswith("sha256")
    Columns.recognise(["hash"]).check(["hash"])  # one is enough


def test_labels_split_on_separators_and_empty_or_missing_cells_give_no_label():
    labels = split_labels(pa.array(["a b,,c", None, "  ", "x|y;z"]), split=True)
    assert labels.to_pylist() == [["a", "b", "c"], [], [], ["x", "y", "z"]]


def test_a_single_label_column_keeps_each_cell_whole_but_trimmed():
    labels = split_labels(pa.array([" known bad ", None, ""]), split=False)
    assert labels.to_pylist() == [["known bad"], [], []]


def test_list_cells_keep_their_items_whole_and_drop_empty_ones():
    values = pa.chunked_array([pa.array([[" a b ", ""], None]), pa.array([["c"]])])
    assert split_labels(values, split=True).to_pylist() == [["a b"], [], ["c"]]


def test_any_column_reads_as_strings():
    assert as_strings(pa.array([1, None, 3])).to_pylist() == ["1", None, "3"]
    assert as_strings(pa.array([["a", "b"], []])).to_pylist() == ["a b", ""]
    chunked = pa.chunked_array([pa.array(["x"]), pa.array(["y"])])
    assert as_strings(chunked).to_pylist() == ["x", "y"]


def test_a_path_or_uri_column_is_the_id_only_when_no_id_column_is_named():
    hashed = Columns.recognise(["path", "frame", "algorithm", "hash", "error", "message"])
    assert (hashed.id, hashed.error) == ("path", "error")
    assert hashed.extra == ["frame", "message"]
    assert Columns.recognise(["URI", "pdq"]).id == "URI"
    named = Columns.recognise(["path", "hash", "id"])
    assert named.id == "id" and named.extra == ["path"]  # a named id wins, the path is carried
