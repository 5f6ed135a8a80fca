"""The jobs' flags (pipelines.flags): unknown flags are usage errors with a hint, values are range-checked."""

from __future__ import annotations

import pytest

from photosieve.pipelines import audit, hash_cli, lists_cli, match, scan

def _usage_error(run, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        run(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    "run,argv,hint",
    [
        (
            audit.run,
            "-i x -l k.txt -o out --threshhold pdq=0",
            "--threshhold (did you mean --threshold?)",
        ),
        (scan.run, "-i x -o out --num_shards 1", "--num_shards (did you mean --num-shards?)"),
        (
            match.run,
            "--hashes h -l k.txt -o out --runer=DataflowRunner",
            "--runer (did you mean --runner?)",
        ),
        (
            scan.run,
            "-i x -o out --temp_locaton=/tmp",
            "--temp_locaton (did you mean --temp_location?)",
        ),
        (scan.run, "-i x -o out stray", "'stray'"),
    ],
)
def test_an_argument_neither_photosieve_nor_beam_knows_is_a_usage_error(run, argv, hint, capsys):
    err = _usage_error(run, argv.split(), capsys)
    assert "unrecognized arguments" in err and hint in err


def test_real_beam_options_still_pass_through():
    argv = "-i x -o out --direct_num_workers 2 --direct_running_mode=in_memory --save_main_session"
    _, pipeline_args = scan.parse_args(argv.split())
    assert pipeline_args[1:] == [
        "--direct_num_workers",
        "2",
        "--direct_running_mode=in_memory",
        "--save_main_session",
    ]


def test_a_bad_beam_option_value_is_a_usage_error(capsys):
    err = _usage_error(scan.run, ["-i", "x", "-o", "out", "--direct_num_workers", "many"], capsys)
    assert "--direct_num_workers" in err and "many" in err


@pytest.mark.parametrize(
    "run,argv,message",
    [
        (
            audit.run,
            "--quality-cutoff 101",
            "argument --quality-cutoff: must be from 0 to 100, got 101",
        ),
        (audit.run, "--quality-cutoff -1", "argument --quality-cutoff: must be from 0 to 100"),
        (audit.run, "--max-bytes 0", "argument --max-bytes: must be an integer >= 1, got 0"),
        (audit.run, "--max-pixels 0", "argument --max-pixels: must be an integer >= 1"),
        (audit.run, "--fast-min-side 0", "argument --fast-min-side: must be an integer >= 1"),
        (audit.run, "--num-shards -1", "argument --num-shards: must be an integer >= 0, got -1"),
        (audit.run, "--threshold pdq=300", "the pdq threshold must be from 0 to 256"),
        (audit.run, "--threshold known:phash=65", "the phash threshold must be from 0 to 64"),
        (audit.run, "--threshold dhash=-1", "the dhash threshold must be from 0 to 64"),
        (audit.run, "--threshold ahash=nan", "the ahash threshold must be from 0 to 64"),
        (audit.run, "--threshold md5=1", "the md5 threshold must be 0"),
        (audit.run, "--threshold gradient=3061", "the gradient threshold must be from 0 to 3060"),
        (audit.run, "--threshold crc=1", "unknown hash algorithm 'crc'"),
        (scan.run, "--max-bytes 0", "argument --max-bytes"),
        (match.run, "--num-shards -2", "argument --num-shards"),
    ],
)
def test_values_out_of_range_are_usage_errors_naming_the_flag(run, argv, message, capsys):
    base = {
        audit.run: "-i x -l k.txt -o out",
        scan.run: "-i x -o out",
        match.run: "--hashes h -l k.txt -o out",
    }[run]
    err = _usage_error(run, f"{base} {argv}".split(), capsys)
    assert message in err and len(err.strip().splitlines()[-1]) < 200


def test_the_ends_of_each_range_are_accepted():
    argv = "-i x -l k.txt -o out --quality-cutoff 100 --max-bytes 1 --num-shards 0 "
    argv += "-t pdq=256 md5=0 gradient=3060 phash=0"
    known, _ = audit.parse_args(argv.split())
    assert known.quality_cutoff == 100 and known.max_bytes == 1
    assert known.threshold == ["pdq=256", "md5=0", "gradient=3060", "phash=0"]


@pytest.mark.parametrize(
    "main,argv,message",
    [
        (hash_cli.main, ["--max-bytes", "0", "x.png"], "argument --max-bytes"),
        (hash_cli.main, ["--fast-min-side", "-3", "x.png"], "argument --fast-min-side"),
    ],
)
def test_local_commands_check_their_ranges_too(main, argv, message, capsys):
    assert _usage_error(main, argv, capsys).count(message) == 1


def test_lists_check_refuses_a_negative_problem_count(capsys):
    assert lists_cli.main(["check", "--max-problems", "-1", "x.txt"]) == 2
    assert "argument -m/--max-problems: must be an integer >= 0" in capsys.readouterr().err


def _options(add) -> set[str]:
    import argparse

    parser = argparse.ArgumentParser(add_help=False)
    add(parser)
    return {s for action in parser._actions for s in action.option_strings}


def test_each_flag_has_one_owner_and_the_commands_take_them_from_it():
    from photosieve.transforms.hashing import HashImages
    from photosieve.transforms.incremental import CarryForward
    from photosieve.transforms.list_matching import MatchLists
    from photosieve.transforms.reading import ReadImages
    from photosieve.transforms.tables import WriteTables

    owners = {
        "WriteTables": _options(WriteTables.add_arguments),
        "ReadImages": _options(ReadImages.add_arguments),
        "HashImages": _options(HashImages.add_arguments),
        "CarryForward": _options(CarryForward.add_arguments),
        "MatchLists": _options(MatchLists.add_arguments),
    }
    everything = [flag for flags_ in owners.values() for flag in flags_]
    assert len(everything) == len(set(everything))  # no flag defined twice
    assert {"--output", "--input", "--algorithms", "--previous", "--list"} <= set(everything)
    job = {"-c", "--config", "--run-id", "-v", "--verbose", "--progress", "--no-progress"}
    commands = {
        "audit": (audit.build_parser(), set(owners), {"--dihedral"}),
        "scan": (scan.build_parser(), {"WriteTables", "ReadImages", "HashImages"}, set()),
        "match": (match.build_parser(), {"WriteTables", "MatchLists"}, {"--hashes"}),
    }
    for name, (parser, used, own) in commands.items():
        given = {s for action in parser._actions for s in action.option_strings} - {"-h", "--help"}
        expected = set().union(*(owners[o] for o in used)) | job | own
        assert given == expected, name
    assert _options(lambda p: p.add_argument("--x")) == {"--x"}  # the helper sees what is added
