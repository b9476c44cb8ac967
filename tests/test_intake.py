"""Taking in LMS downloads (autograder/intake/): Canvas-style zips built here, collected into a
temporary course whose gradebook has the assignment registered; what nbgrader then sees
(Gradebook API, ``nbgrader export``); and hostile uploads, each refused or neutralized without
touching other students."""

import csv
import functools
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import nbformat
import pytest

from autograder.intake import (
    KEPT_DIR,
    Limits,
    apply_late_penalty,
    collect,
    course_settings,
    describe,
    entry_time,
    late_penalty_plugin,
    manifest_path,
    open_gradebook,
    parse_due,
    pick_submission,
)
from autograder.judge import UsageError

ROOT = Path(__file__).resolve().parent.parent
A1, A2 = "a1_activations", "a2_losses"
T1 = datetime(2026, 11, 18, 9, 30, 0)
T2 = datetime(2026, 11, 21, 16, 4, 0)
DUE = datetime(2026, 11, 20, 23, 59, 0)


def nbgrader(*args, cwd):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
                          cwd=cwd, env=env, capture_output=True, text=True)  # fmt: skip


@functools.cache
def notebook(text: str) -> bytes:
    """A small notebook; the same text gives the same bytes (cell ids are random)."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(f"# {text}\nx = 1"))
    return nbformat.writes(nb).encode()


def entry(zf, name: str, data: bytes, when: datetime = T1, mode: int | None = None) -> None:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    zf.writestr(info, data)


def canvas_zip(path: Path, files: list[tuple]) -> Path:
    """``files``: (name, bytes[, time[, mode]]) in zip order."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, *rest in files:
            entry(zf, name, data, *rest)
    return path


@pytest.fixture(scope="module")
def registered_course(tmp_path_factory):
    """A course with nbgrader_config.py, a1/a2 source and release, a1 in the gradebook."""
    course = tmp_path_factory.mktemp("template") / "course"
    course.mkdir()
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    for folder in ("solutions", "assignments"):
        for name in (A1, A2):
            shutil.copytree(ROOT / folder / name, course / folder / name)
    scratch = course.parent / "scratch-release"
    done = nbgrader("generate_assignment", A1, "--force",
                    f"--CourseDirectory.release_directory={scratch}", cwd=course)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return course


@pytest.fixture
def course(registered_course, tmp_path):
    dest = tmp_path / "course"
    shutil.copytree(registered_course, dest)
    return dest


def test_two_canvas_downloads_keep_the_newest_file_and_put_the_older_aside(course, tmp_path):
    first = canvas_zip(tmp_path / "first.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada"), T1),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan v1"), T1),
        (f"hoppergrace_1003_503_{A1}.ipynb", notebook("grace"), T1),
        ("__MACOSX/._lovelaceada_1001_501_a1_activations.ipynb", b"\0\5\26\7", T1),
        (".DS_Store", b"\0\0\0\1Bud1", T1),
        ("notes-from-the-lms.txt", b"not a submission", T1),
    ])  # fmt: skip
    found = collect(course, A1, first)
    assert found["collected"] == ["1001", "1002", "1003"] and found["students"] == 3
    assert not found["replaced"] and not found["unchanged"]
    reasons = {s["file"]: s["reason"] for s in found["skipped"]}
    assert set(reasons) == {
        "__MACOSX/._lovelaceada_1001_501_a1_activations.ipynb",
        ".DS_Store",
        "notes-from-the-lms.txt",
    }
    assert "macOS" in reasons["__MACOSX/._lovelaceada_1001_501_a1_activations.ipynb"]
    assert "system file" in reasons[".DS_Store"]

    # Canvas's second download holds everyone's latest file: alan resubmitted, late.
    second = canvas_zip(tmp_path / "second.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada"), T1),
        (f"turingalan_LATE_1002_602_{A1}-1.ipynb", notebook("alan v2"), T2),
        (f"hoppergrace_1003_503_{A1}.ipynb", notebook("grace"), T1),
        ("__MACOSX/._lovelaceada_1001_501_a1_activations.ipynb", b"\0\5\26\7", T1),
        (".DS_Store", b"\0\0\0\1Bud1", T1),
        ("notes-from-the-lms.txt", b"not a submission", T1),
    ])  # fmt: skip
    again = collect(course, A1, second, due=DUE)
    assert again["collected"] == [] and again["unchanged"] == ["1001", "1003"]
    assert [r["student"] for r in again["replaced"]] == ["1002"]
    sentence = again["replaced"][0]["sentence"]
    assert "a1_activations-1.ipynb" in sentence and "kept in submitted-older/1002" in sentence
    assert again["skipped"] == [] and again["skipped_before"] == 3  # old skips not repeated
    text = describe(again)
    assert text.startswith(f"{A1}: 0 students collected from second.zip, 1 resubmission replaced")
    assert "2 unchanged; 3 students with a current submission." in text
    assert (
        f"  {sentence}" in text
        and "(3 files skipped as in an earlier collection, not listed again)" in text
    )
    assert "notes-from-the-lms.txt" not in text
    assert "notes-from-the-lms.txt: is not a .ipynb or .py file" in describe(found)

    folder = course / "submitted" / "1002" / A1
    assert sorted(p.name for p in folder.iterdir()) == [f"{A1}.ipynb", "timestamp.txt"]
    assert b"alan v2" in (folder / f"{A1}.ipynb").read_bytes()
    kept = list((course / KEPT_DIR / "1002" / A1).iterdir())
    assert [p.name for p in kept] == [f"20261118T093000Z-{A1}.ipynb"]
    assert b"alan v1" in kept[0].read_bytes()
    assert stat.S_IMODE(kept[0].stat().st_mode) == 0o644
    assert stat.S_IMODE(kept[0].parent.stat().st_mode) == 0o755

    # nbgrader's own reader of timestamp.txt
    from nbgrader.coursedir import CourseDirectory

    assert CourseDirectory(root=str(course)).get_existing_timestamp(str(folder)) == T2

    manifest = json.loads(manifest_path(course, A1).read_text())
    alan = manifest["students"]["1002"]
    assert alan["late"] is True and alan["display_name"] == "turingalan"
    assert alan["submitted_at"] == "2026-11-21T16:04:00Z"
    assert alan["original_name"] == f"{A1}-1.ipynb" and alan["collection"] == 2
    assert [s["file"] for s in alan["superseded"]] == [str(kept[0].relative_to(course))]
    assert manifest["students"]["1001"]["late"] is False
    assert [c["n"] for c in manifest["collections"]] == [1, 2]

    with open_gradebook(course_settings(course)) as gb:
        student = gb.find_student("1002")
        assert (student.last_name, student.first_name, student.lms_user_id) == (
            "turingalan", "", "1002")  # fmt: skip
        assert gb.find_submission(A1, "1002").timestamp == T2
        assert gb.find_submission(A1, "1002").total_seconds_late == (T2 - DUE).total_seconds()
        assert gb.find_submission(A1, "1001").total_seconds_late == 0
        assert gb.find_assignment(A1).duedate == DUE


def test_nbgrader_export_shows_names_times_and_the_late_penalty(course, tmp_path):
    config = course / "nbgrader_config.py"
    config.write_text(
        config.read_text().replace('penalty_method = "none"', 'penalty_method = "zero"')
    )
    first = canvas_zip(tmp_path / "first.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada"), T1),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan v1"), T1),
    ])  # fmt: skip
    collect(course, A1, first)
    second = canvas_zip(tmp_path / "second.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada"), T1),
        (f"turingalan_LATE_1002_602_{A1}-1.ipynb", notebook("alan v2"), T2),
    ])  # fmt: skip
    collect(course, A1, second, due=DUE)
    plugin = late_penalty_plugin(course)
    with open_gradebook(course_settings(course)) as gb:  # what grading does: scores, then penalty
        for student in ("1001", "1002"):
            for grade in gb.find_submission_notebook(A1, A1, student).grades:
                grade.auto_score = grade.max_score
            gb.db.commit()
            apply_late_penalty(gb, A1, student, plugin)
    done = nbgrader("export", "--to=grades.csv", cwd=course)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {r["student_id"]: r for r in csv.DictReader(open(course / "grades.csv"))}
    assert rows["1002"]["last_name"] == "turingalan" and rows["1001"]["last_name"] == "lovelaceada"
    assert rows["1002"]["timestamp"] == "2026-11-21 16:04:00"
    assert rows["1001"]["timestamp"] == "2026-11-18 09:30:00"
    assert rows["1002"]["duedate"] == "2026-11-20 23:59:00"
    raw = float(rows["1002"]["raw_score"])
    assert raw > 0 and float(rows["1002"]["late_submission_penalty"]) == raw
    assert float(rows["1002"]["score"]) == 0
    assert float(rows["1001"]["late_submission_penalty"]) == 0
    assert float(rows["1001"]["score"]) == float(rows["1001"]["raw_score"]) > 0


def test_late_flag_without_due_date_is_reported(course, tmp_path):
    path = canvas_zip(tmp_path / "late.zip", [(f"turingalan_LATE_1002_602_{A1}.ipynb",
                                                notebook("alan"), T2)])  # fmt: skip
    found = collect(course, A1, path)
    assert any("marked LATE" in n and "no due date" in n for n in found["notes"])


def test_a_roster_name_is_not_overwritten_by_the_lms_name(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [(f"lovelaceada_1001_501_{A1}.ipynb", notebook("a"))])
    collect(course, A1, path)
    with open_gradebook(course_settings(course)) as gb:
        gb.update_or_create_student("1001", first_name="Ada", last_name="Lovelace")
    path = canvas_zip(tmp_path / "e.zip", [(f"lovelaceada_1001_501_{A1}.ipynb", notebook("b"), T2)])
    collect(course, A1, path)
    with open_gradebook(course_settings(course)) as gb:
        student = gb.find_student("1001")
        assert (student.first_name, student.last_name) == ("Ada", "Lovelace")


def test_the_a1_download_collected_as_a2_creates_nothing(course, tmp_path):
    path = canvas_zip(tmp_path / "a1.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    with pytest.raises(UsageError) as err:
        collect(course, A2, path)
    message = str(err.value)
    assert f"lovelaceada_1001_501_{A1}.ipynb" in message and "another assignment" in message
    assert not list(course.glob(f"submitted/*/{A2}"))
    assert not manifest_path(course, A2).exists()


def test_a_file_of_another_assignment_is_skipped_with_its_reason(course, tmp_path):
    path = canvas_zip(tmp_path / "mixed.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        (f"turingalan_1002_502_{A2}.ipynb", notebook("alan")),
        ("unnamed.ipynb", notebook("?")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1001"]
    reasons = {s["file"]: s["reason"] for s in found["skipped"]}
    assert f"not {A1}.ipynb" in reasons[f"turingalan_1002_502_{A2}.ipynb"]
    assert "named_regexp" in reasons["unnamed.ipynb"]
    assert not (course / "submitted" / "1002").exists()


@pytest.mark.parametrize(
    "content, sentence",
    [
        (b"hello, not a zip", "is not a zip archive"),
        (b"", "is an empty file"),
        (None, "is an empty zip archive"),
        ("corrupt", "damaged zip archive"),
    ],
)
def test_unreadable_downloads_get_one_sentence(course, tmp_path, content, sentence):
    path = tmp_path / "download.zip"
    if content is None:
        zipfile.ZipFile(path, "w").close()
    elif content == "corrupt":
        canvas_zip(path, [(f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada"))])
        data = bytearray(path.read_bytes())
        start = data.rfind(b"PK\x01\x02")
        data[start : start + 4] = b"XXXX"  # the central directory entry's signature
        path.write_bytes(bytes(data))
    else:
        path.write_bytes(content)
    with pytest.raises(UsageError) as err:
        collect(course, A1, path)
    message = str(err.value)
    assert sentence in message and message.count(". ") == 0 and "\n" not in message
    assert not (course / "submitted").exists()


# ----------------------------------------------------------------------------- hostile uploads


def test_a_nested_archive_cannot_file_a_notebook_for_another_student(course, tmp_path):
    inner = tmp_path / "inner.zip"
    canvas_zip(inner, [(f"lovelaceada_1001_501_{A1}.ipynb", notebook("forged for ada"))])
    path = canvas_zip(tmp_path / "d.zip", [
        (f"mallory_1066_566_{A1}.zip", inner.read_bytes()),
        (f"mallory_1066_567_folder/lovelaceada_1001_501_{A1}.ipynb", notebook("forged")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    assert not (course / "submitted" / "1001").exists()
    assert not (course / "submitted" / "1066").exists()
    reasons = {s["file"]: s["reason"] for s in found["skipped"]}
    assert "archives are not unpacked" in reasons[f"mallory_1066_566_{A1}.zip"]
    assert "only files at the top level" in reasons[
        f"mallory_1066_567_folder/lovelaceada_1001_501_{A1}.ipynb"]  # fmt: skip


def test_a_zip_bomb_is_refused_without_unpacking_it(course, tmp_path):
    bomb = bytes(60 * 1024**2)  # 60 MiB of zeros, about 60 kB deflated
    path = canvas_zip(tmp_path / "bomb.zip", [
        (f"bomber_1004_504_{A1}.ipynb", bomb),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    assert path.stat().st_size < 1024**2
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    reason = found["skipped"][0]["reason"]
    assert found["skipped"][0]["file"] == f"bomber_1004_504_{A1}.ipynb"
    assert "declares 60.0 MiB" in reason and "limit per file" in reason
    assert not (course / "submitted" / "1004").exists()


def test_the_total_and_the_entry_count_are_checked_before_anything_is_written(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [
        (f"s{i}_{1000 + i}_{500 + i}_{A1}.ipynb", notebook("x" * 4000 + str(i))) for i in range(6)
    ])  # fmt: skip
    with pytest.raises(UsageError, match="lists 6 entries, over the limit of 5"):
        collect(course, A1, path, limits=Limits(max_entries=5))
    with pytest.raises(UsageError, match="would unpack to"):
        collect(course, A1, path, limits=Limits(max_total_bytes=20_000))
    assert not (course / "submitted").exists()


def _lie_about_size(path: Path, name: str, declared: int, crc: int | None = None) -> None:
    """Rewrite the uncompressed size (and optionally the CRC) of ``name`` in both the central
    directory and the local header."""
    data = bytearray(path.read_bytes())
    encoded = name.encode()
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == encoded:
            local = struct.unpack_from("<I", data, central + 42)[0]
            struct.pack_into("<I", data, central + 24, declared)
            struct.pack_into("<I", data, local + 22, declared)
            if crc is not None:
                struct.pack_into("<I", data, central + 16, crc)
                struct.pack_into("<I", data, local + 14, crc)
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("forge_crc", [False, True])
def test_a_lying_central_directory_cannot_write_more_than_it_declared(course, tmp_path, forge_crc):
    name = f"liar_1007_507_{A1}.ipynb"
    path = canvas_zip(tmp_path / "d.zip", [
        (name, bytes(8 * 1024**2)),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    _lie_about_size(path, name, 1000, zlib.crc32(bytes(1000)) if forge_crc else None)
    assert zipfile.ZipFile(path).getinfo(name).file_size == 1000
    found = collect(course, A1, path)
    assert "1002" in found["collected"]
    written = [p.stat().st_size for p in course.rglob("*.ipynb") if "1007" in str(p)]
    assert all(size <= 1000 for size in written)
    if not forge_crc:  # the CRC of the truncated data gives the lie away
        assert found["skipped"][0]["file"] == name
        assert "damaged in the archive" in found["skipped"][0]["reason"]
        assert not written
    staging = list((course / ".layerlab" / "intake").glob("staging-*"))
    assert staging == []


def test_stored_modes_are_not_applied(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [
        (f"setuid_1008_508_{A1}.ipynb", notebook("suid"), T1, stat.S_IFREG | 0o4755),
        (f"everyone_1009_509_{A1}.ipynb", notebook("777"), T1, stat.S_IFREG | 0o777),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1008", "1009"]
    for student in ("1008", "1009"):
        folder = course / "submitted" / student / A1
        for file in folder.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o644, file
        for d in (folder, folder.parent):
            assert stat.S_IMODE(d.stat().st_mode) == 0o755, d


@pytest.mark.parametrize(
    "name",
    [
        f"../../evil_1010_510_{A1}.ipynb",
        f"/tmp/evil_1010_510_{A1}.ipynb",
        f"..\\..\\evil_1010_510_{A1}.ipynb",
        f"C:\\evil_1010_510_{A1}.ipynb",
        f"evil\x1b[2J_1010_510_{A1}.ipynb",
    ],
)
def test_path_traversal_and_control_names_are_refused(course, tmp_path, name):
    path = canvas_zip(tmp_path / "d.zip", [
        (name, notebook("evil")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    (skip,) = found["skipped"]
    assert "refused" in skip["reason"] or "top level" in skip["reason"]
    assert "\x1b" not in skip["file"]
    assert not list(tmp_path.rglob("evil*")) and not list(course.rglob("*1010*"))


def test_a_symlink_entry_is_refused(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [
        (f"linker_1011_511_{A1}.ipynb", b"/etc/passwd", T1, stat.S_IFLNK | 0o777),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    assert "symbolic link" in found["skipped"][0]["reason"]
    assert not (course / "submitted" / "1011").exists()


def test_duplicate_entries_of_one_student_keep_the_newest_and_fail_nobody(course, tmp_path):
    same = f"turingalan_1002_502_{A1}.ipynb"
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = canvas_zip(tmp_path / "d.zip", [
            (same, notebook("alan later"), T2),
            (same, notebook("alan earlier"), T1),
            (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1001", "1002"]
    assert b"alan later" in (course / "submitted" / "1002" / A1 / f"{A1}.ipynb").read_bytes()
    (kept,) = (course / KEPT_DIR / "1002" / A1).iterdir()
    assert b"alan earlier" in kept.read_bytes()
    assert "older than the current file" in found["kept_older"][0]["sentence"]


def test_one_student_id_under_two_names_is_refused_for_that_id_only(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        (f"mallory_1001_777_{A1}.ipynb", notebook("forged")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    assert len(found["skipped"]) == 2
    assert all("different names" in s["reason"] for s in found["skipped"])
    assert not (course / "submitted" / "1001").exists()


# ----------------------------------------------------------------------------- picking a file


def test_pick_submission_takes_the_newest_file_not_the_one_named_like_the_release(tmp_path):
    folder = tmp_path / "submitted" / "1002" / A1
    folder.mkdir(parents=True)
    (folder / f"{A1}.ipynb").write_bytes(notebook("first"))
    (folder / f"{A1}-2.ipynb").write_bytes(notebook("second"))
    os.utime(folder / f"{A1}.ipynb", (1_700_000_000, 1_700_000_000))
    os.utime(folder / f"{A1}-2.ipynb", (1_700_000_500, 1_700_000_500))
    picked = pick_submission(folder, A1)
    assert picked.path.name == f"{A1}-2.ipynb" and [p.name for p in picked.others] == [
        f"{A1}.ipynb"]  # fmt: skip
    assert f"grading {A1}-2.ipynb" in picked.reason and "file time" in picked.reason
    (folder / f"{A1}-2.ipynb").unlink()
    alone = pick_submission(folder, A1)
    assert alone.others == [] and alone.reason is None
    assert pick_submission(tmp_path / "nothing" / "x" / A1, A1) is None


def test_pick_submission_prefers_the_recorded_lms_time_over_a_touched_file(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [(f"turingalan_1002_502_{A1}.ipynb", notebook("v"), T2)])
    collect(course, A1, path)
    folder = course / "submitted" / "1002" / A1
    current = folder / f"{A1}.ipynb"
    copy = folder / "copied-by-hand.ipynb"
    copy.write_bytes(notebook("hand"))
    os.utime(copy, (T1.timestamp(), T1.timestamp()))  # older than T2 in any time zone
    os.utime(current, (T1.timestamp() - 86400 * 5,) * 2)  # touched: mtime no longer T2
    picked = pick_submission(folder, A1)
    assert picked.path == current and "LMS time" in picked.reason


def test_collect_leaves_one_current_file_when_the_folder_held_several(course, tmp_path):
    folder = course / "submitted" / "1002" / A1
    folder.mkdir(parents=True)
    for name, when in ((f"{A1}.ipynb", 1_700_000_000), (f"{A1}-2.ipynb", 1_700_000_100)):
        (folder / name).write_bytes(notebook(name))
        os.utime(folder / name, (when, when))
    path = canvas_zip(
        tmp_path / "d.zip", [(f"turingalan_1002_502_{A1}.ipynb", notebook("new"), T2)]
    )
    found = collect(course, A1, path)
    assert sorted(p.name for p in folder.iterdir()) == [f"{A1}.ipynb", "timestamp.txt"]
    assert b"new" in (folder / f"{A1}.ipynb").read_bytes()
    assert len(list((course / KEPT_DIR / "1002" / A1).iterdir())) == 2
    assert len(found["replaced"]) == 2


def test_entry_time_reads_the_extended_timestamp_when_present():
    info = zipfile.ZipInfo("x", date_time=(1980, 1, 1, 0, 0, 0))
    info.extra = struct.pack("<HHBI", 0x5455, 5, 1, 1_795_000_000)
    assert entry_time(info) == datetime(2026, 11, 18, 11, 6, 40)
    assert entry_time(zipfile.ZipInfo("y", date_time=T1.timetuple()[:6])) == T1


def test_an_interrupted_collection_is_recorded_when_collected_again(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [(f"turingalan_1002_502_{A1}.ipynb", notebook("v"), T2)])
    collect(course, A1, path)
    manifest_path(course, A1).unlink()  # as if killed after the files, before the manifest
    again = collect(course, A1, path)
    assert again["unchanged"] == ["1002"] and again["collected"] == []
    record = json.loads(manifest_path(course, A1).read_text())["students"]["1002"]
    assert record["submitted_at"] == "2026-11-21T16:04:00Z" and record["superseded"] == []


def test_the_file_name_pattern_comes_from_nbgrader_config(course, tmp_path):
    config = course / "nbgrader_config.py"
    moodle = (
        r'r".*/(?P<full_name>[^/_]+)_(?P<student_id>[0-9]+)_assignsubmission_file_'
        r'(?P<file_id>[^/]+)$"'
    )
    text = config.read_text()
    start = text.index("c.FileNameCollectorPlugin.named_regexp = (")
    end = text.index(")\n", start) + 2
    config.write_text(text[:start] + f"c.FileNameCollectorPlugin.named_regexp = {moodle}\n"
                      + text[end:])  # fmt: skip
    path = canvas_zip(tmp_path / "moodle.zip", [
        (f"Ada Lovelace_51_assignsubmission_file_{A1}.ipynb", notebook("ada")),
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("canvas")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["51"]
    assert "named_regexp" in found["skipped"][0]["reason"]
    with open_gradebook(course_settings(course)) as gb:
        assert gb.find_student("51").last_name == "Ada Lovelace"


def test_the_lms_export_reads_what_collect_records(course, tmp_path):
    from autograder.lms.records import read_manifest

    path = canvas_zip(tmp_path / "d.zip", [
        (f"turingalan_LATE_1002_502_{A1}.ipynb", notebook("alan"), T2),
    ])  # fmt: skip
    collect(course, A1, path)
    person = read_manifest(course, A1)["1002"]
    assert (person.lms_user_id, person.late) == ("1002", True)
    assert person.original_file == f"turingalan_LATE_1002_502_{A1}.ipynb"


def test_a_due_date_is_read_as_nbgrader_reads_it():
    assert parse_due("2026-11-20 23:59:00 UTC") == DUE
    assert parse_due("2026-11-21 00:59:00 +0100") == DUE
    with pytest.raises(UsageError, match="cannot read the due date 'friday'"):
        parse_due("friday")


def test_a_newer_file_put_there_by_hand_stays_current_and_the_lms_file_is_kept(course, tmp_path):
    path = canvas_zip(tmp_path / "d.zip", [(f"turingalan_1002_502_{A1}.ipynb", notebook("v"), T1)])
    collect(course, A1, path)
    folder = course / "submitted" / "1002" / A1
    (folder / "emailed-fix.ipynb").write_bytes(notebook("emailed"))  # mtime: now, after T1
    again = collect(course, A1, path)
    assert sorted(p.name for p in folder.iterdir()) == [f"{A1}.ipynb", "timestamp.txt"]
    assert b"emailed" in (folder / f"{A1}.ipynb").read_bytes()
    (kept,) = (course / KEPT_DIR / "1002" / A1).iterdir()
    assert b"# v" in kept.read_bytes() and "kept in" in again["replaced"][0]["sentence"]
    record = json.loads(manifest_path(course, A1).read_text())["students"]["1002"]
    assert record["time_source"] == "file" and record["late"] is None
    assert record["superseded"][0]["submitted_at"] == "2026-11-18T09:30:00Z"
    assert datetime.strptime(record["submitted_at"], "%Y-%m-%dT%H:%M:%SZ") > T2


def test_an_entry_with_an_impossible_date_is_refused_alone(course, tmp_path):
    path = tmp_path / "d.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo(f"when_1012_512_{A1}.ipynb", (2026, 0, 0, 0, 0, 0)), b"{}")
        entry(zf, f"turingalan_1002_502_{A1}.ipynb", notebook("alan"))
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    assert "impossible date" in found["skipped"][0]["reason"]


def test_a_damaged_download_gets_a_sentence_or_a_partial_collection_never_a_traceback(
    course, tmp_path
):
    import random

    good = canvas_zip(tmp_path / "good.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan" * 50)),
    ]).read_bytes()  # fmt: skip
    rng = random.Random(20)
    outcomes = set()
    for k in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        root = tmp_path / f"c{k}"
        root.mkdir()
        for name in ("nbgrader_config.py", "gradebook.db"):
            shutil.copy2(course / name, root / name)
        (tmp_path / "m.zip").write_bytes(bytes(data))
        try:
            found = collect(root, A1, tmp_path / "m.zip")
        except UsageError as exc:
            assert "\n" not in str(exc)
            outcomes.add("refused")
        else:
            assert set(found["collected"]) <= {"1001", "1002"}
            outcomes.add("collected")
    assert outcomes == {"refused", "collected"}  # both kinds of damage were met


def test_a_student_folder_that_cannot_be_written_stops_only_that_student(course, tmp_path):
    (course / "submitted").mkdir()
    (course / "submitted" / "1001").write_text("a file where the student's folder should be")
    path = canvas_zip(tmp_path / "d.zip", [
        (f"lovelaceada_1001_501_{A1}.ipynb", notebook("ada")),
        (f"turingalan_1002_502_{A1}.ipynb", notebook("alan")),
    ])  # fmt: skip
    found = collect(course, A1, path)
    assert found["collected"] == ["1002"]
    assert [f["student"] for f in found["failed"]] == ["1001"]
    assert "NOT collected" in describe(found) and "1001: not collected" in describe(found)
    assert list((course / ".layerlab" / "intake").glob("staging-*")) == []
