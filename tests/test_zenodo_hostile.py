"""fetch_zenodo against hostile records: it writes only inside data/zenodo/, checks what zenodo-get wrote,
limits the unpacked size across nested archives and refuses conflicting archive members."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from fake_zenodo import (
    FakeRecord,
    FakeZenodo,
)
from zenodo_samples import (
    FAST,
    MORE_EPISODES,
    RECORD,
    no_leftovers,
    run_stage,
    sample_files,
    sample_record,
    tar_bytes,
    tree,
    whole_tree,
    zip_bytes,
    zip_text,
)

from scinet.zenodo import (
    ZenodoError,
    fetch_record,
    unpack,
)


@pytest.mark.parametrize("keep_validated", [True, False], ids=["beside-the-files", "instead-of-them"])
def test_a_record_changed_for_zenodo_get_writes_nothing_outside(
    zenodo: FakeZenodo, tmp_path: Path, keep_validated: bool
) -> None:
    """zenodo-get reads the record again: names the stage never validated must not be written anywhere.

    A validated name with glob characters is still fetched: zenodo-get gets each name as an escaped glob.
    """

    def validated() -> FakeRecord:
        record = sample_record()
        record.files["odd [1]*?.txt"] = b"glob characters in a name\n"
        return record

    healthy, out = tmp_path / "healthy" / "zenodo", tmp_path / "data" / "zenodo"
    zenodo.records[RECORD] = validated()
    fetch_record(RECORD, healthy, FAST)
    out.parent.mkdir()
    before = whole_tree(tmp_path)
    hostile = validated() if keep_validated else FakeRecord(files={})
    hostile.files.update(
        {
            "../inject.txt": MORE_EPISODES.encode(),  # beside raw/: would be published as unverified data
            "../../escape.txt": b"beside data/zenodo\n",
            str(tmp_path / "absolute.txt"): b"anywhere\n",
            "renamed.zip": sample_files()["results_log.zip"],
        }
    )
    zenodo.queued[RECORD] = [validated(), hostile]
    if keep_validated:
        assert fetch_record(RECORD, out, FAST).available
        assert tree(out) == tree(healthy)
    else:
        with pytest.raises(ZenodoError, match=r"missing after download"):
            fetch_record(RECORD, out, FAST)
        assert not out.exists()
    assert {path: data for path, data in whole_tree(tmp_path).items() if "data/zenodo" not in path} == before
    assert not any("inject" in path or "renamed" in path or "escape" in path for path in zenodo.requests)


@pytest.mark.parametrize("misdeed", ["extra file", "file beside", "symlink"])
def test_what_zenodo_get_wrote_is_checked(
    zenodo: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, misdeed: str
) -> None:
    """A zenodo-get that ignored the names it was given is caught by what it left in its directory."""
    import scinet.zenodo.fetch as fetch_module

    run_zenodo_get = fetch_module._run_zenodo_get
    outside = tmp_path / "outside.txt"
    outside.write_bytes(sample_files()["README.txt"])

    def misbehaving(*args: object) -> None:
        run_zenodo_get(*args)  # type: ignore[arg-type]
        directory = args[1]
        assert isinstance(directory, Path)
        if misdeed == "extra file":
            (directory / "surprise.txt").write_text("not in the record\n")
        elif misdeed == "file beside":
            (directory.parent / "inject.txt").write_text(MORE_EPISODES)
        else:
            (directory / "README.txt").unlink()
            (directory / "README.txt").symlink_to(outside)

    monkeypatch.setattr(fetch_module, "_run_zenodo_get", misbehaving)
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"zenodo_get 4425741 wrote "):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()
    no_leftovers(out.parent)


def test_size_limit_applies_to_the_total_across_nested_archives(
    zenodo: FakeZenodo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two archives in an archive, each under the limit, the three together above it."""
    monkeypatch.setattr("scinet.zenodo.archives.MAX_UNPACKED_BYTES", 3000)
    inner = {name: zip_text({"big.txt": "x" * 2000}, zipfile.ZIP_DEFLATED) for name in ("a.zip", "b.zip")}
    outer = zip_bytes(inner, zipfile.ZIP_DEFLATED)
    assert len(outer) < 3000 and all(len(data) < 3000 for data in inner.values())
    zenodo.records[RECORD] = FakeRecord(files={"nested.zip": outer})
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"above the 3000 bytes limit"):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()


CONFLICTS = {
    "file then directory": ("x.zip", zip_text({"a": "1", "a/b": "2"})),
    "directory then file": ("x.zip", zip_text({"a/b": "2", "a": "1"})),
    "duplicate": ("x.tar", tar_bytes([("logs/a.txt", b"1"), ("logs/./a.txt", b"2")])),
    "case": ("x.zip", zip_text({"Log.txt": "1", "log.txt": "2"})),
    "unicode normalisation": ("x.zip", zip_text({"caf\u00e9.txt": "1", "cafe\u0301.txt": "2"})),
}


@pytest.mark.parametrize("kind", sorted(CONFLICTS))
def test_conflicting_members_are_a_zenodo_error(tmp_path: Path, kind: str) -> None:
    """Members that would overwrite each other, here or on a case-insensitive or normalising file system
    (the stage test below meets one through the fake Zenodo); nothing of the archive is written."""
    name, data = CONFLICTS[kind]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ZenodoError, match=rf"^{name}: member .* conflicts with "):
        unpack(tmp_path / name, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("member", ["in.zip.contents", "in.zip.contents/c"])
def test_a_nested_archive_may_not_unpack_onto_a_member(
    zenodo: FakeZenodo, tmp_path: Path, member: str
) -> None:
    """``in.zip`` unpacks to ``in.zip.contents`` beside it, which its archive must not hold already."""
    outer = zip_bytes({"in.zip": zip_text({"c": "3"}), member: b"4"})
    zenodo.records[RECORD] = FakeRecord(files={"x.zip": outer})
    out = tmp_path / "data" / "zenodo"
    with pytest.raises(ZenodoError, match=r"in\.zip: its unpack directory 'in\.zip\.contents' conflicts"):
        fetch_record(RECORD, out, FAST)
    assert not out.exists()
    no_leftovers(out.parent)


def test_stage_conflicting_members_one_line_and_output_kept(zenodo: FakeZenodo, tmp_path: Path) -> None:
    fetch_record(RECORD, tmp_path / "data" / "zenodo", FAST)
    zenodo.records[RECORD] = FakeRecord(files={"x.zip": CONFLICTS["file then directory"][1]})
    before = whole_tree(tmp_path / "data")
    done = run_stage(tmp_path, RECORD)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "fetch_zenodo: error: x.zip: member 'a/b' conflicts with 'a' (a file cannot be a directory)"
    ]
    assert whole_tree(tmp_path / "data") == before
