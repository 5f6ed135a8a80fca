"""ListSpec: several lists, names, roles, thresholds."""

from __future__ import annotations

import pickle

import pytest

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import ListRole, ListSpec, load_list_specs, read_lists


def test_specs_from_profile_entries(hash_lists_dir):
    specs = load_list_specs(
        [
            {"path": str(hash_lists_dir / "haystack.txt"), "thresholds": {"PDQ": 24}},
            {"name": "benign", "path": str(hash_lists_dir / "needles.txt"), "role": "suppress"},
            str(hash_lists_dir / "short64.dat"),
        ]
    )
    assert [s.name for s in specs] == ["haystack", "benign", "short64"]
    assert [s.role for s in specs] == [ListRole.MATCH, ListRole.SUPPRESS, ListRole.MATCH]
    assert specs[0].threshold("pdq") == 24
    assert specs[1].threshold("pdq") == 31  # PDQ's default
    assert specs[0].threshold("md5") == 0


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "a.txt", "role": "report"}, "role must be"),
        ({"path": "a.txt", "thresholds": {"pdq": -1}}, "threshold must be"),
        ({"path": "a.txt", "thresholds": {"pdq": "31"}}, "threshold must be"),
        ({"path": "a.txt", "thresholds": {"nope": 3}}, "unknown hash algorithm"),
        ({"path": "a.txt", "treshold": 3}, "unknown keys"),
        ({"path": "a.txt", "format": "xls"}, "unknown format"),
        ({"path": ""}, "needs a path"),
    ],
)
def test_bad_entries_fail_at_construction(entry, message):
    with pytest.raises(ConfigError, match=message):
        load_list_specs([entry])


def test_duplicate_names_are_rejected():
    with pytest.raises(ConfigError, match="two lists are named 'a'"):
        load_list_specs(["x/a.txt", "y/a.csv"])


def test_read_lists_fails_once_with_the_problems_of_every_list(write, hash_lists_dir, pdq_hashes):
    bad_a = write("a.txt", f"{pdq_hashes[0]}\nxyz\n")
    bad_b = write("b.txt", "123\n")
    specs = load_list_specs([bad_a, str(hash_lists_dir / "needles.txt"), bad_b])
    with pytest.raises(ListFormatError) as caught:
        read_lists(specs)
    assert caught.value.total == 2 and "2 list files" in str(caught.value)
    lists = read_lists(specs, strict=False)
    assert [len(h.problems) for h in lists] == [1, 0, 1]
    assert [h.name for h in lists] == ["a", "needles", "b"]


def test_spec_algorithm_is_applied(hash_lists_dir):
    spec = ListSpec(path=str(hash_lists_dir / "short64.dat"), algorithm="PHash")
    (hash_list,) = read_lists([spec])
    assert spec.algorithm == "phash" and hash_list.algorithms == ["phash"]


def test_specs_and_lists_pickle_for_beam(hash_lists_dir):
    import pickle

    spec = ListSpec(
        path=str(hash_lists_dir / "needles.txt"), role="suppress", thresholds={"pdq": 20}
    )
    (hash_list,) = read_lists([spec])
    spec_again, list_again = pickle.loads(pickle.dumps((spec, hash_list)))
    assert spec_again == spec and spec_again.threshold("pdq") == 20
    assert (list_again.group("pdq").hashes == hash_list.group("pdq").hashes).all()
    assert list_again.group("pdq").metadata.equals(hash_list.group("pdq").metadata)
    assert list_again.version == hash_list.version


def test_read_lists_keeps_to_each_specs_byte_limit(write, pdq_hashes):
    path = write("a.txt", "\n".join(pdq_hashes[:100]))
    assert read_lists([ListSpec(path, max_bytes="1M")])[0].distinct == 100
    with pytest.raises(ListFormatError, match="holds more than 1024 bytes"):
        read_lists([ListSpec(path, max_bytes="1K")])


def test_a_spec_byte_limit_must_be_positive():
    with pytest.raises(ConfigError, match="must be positive"):
        ListSpec("a.txt", max_bytes=0)


def test_a_spec_pickles_as_it_is():
    spec = ListSpec(
        "gs://bucket/l.csv", name="l", role="suppress", thresholds={"pdq": 20}, max_bytes="2MB"
    )
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_a_spec_reads_its_file_as_it_says(tmp_path):
    path = tmp_path / "k.txt"
    path.write_text("ab" * 16 + "\n")
    spec = ListSpec(str(path), name="known", algorithm="md5")
    hash_list = spec.read()
    assert hash_list.name == "known" and hash_list.algorithms == ["md5"]
    again, entries = spec.read_entries()
    assert again.version == hash_list.version and set(entries) == {"md5"}
