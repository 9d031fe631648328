"""Paths are checked before the first request (issue 10, A5): an unusable ATP_WAREHOUSE,
ATP_LANDING_DIR, ATP_PUBLISHED or ATP_REPORT_DIR is one line naming the variable and the reason,
and a lock file that cannot be created says so instead of a bare [Errno 2]."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from ingest.errors import ConfigError, WarehouseError
from ingest.locking import writer_lock
from ingest.partitions import load_years
from ingest.preflight import check_paths
from ingest.settings import path_settings
from orchestration import cli
from orchestration.runner import run_pipeline
from tests.conftest import SENTINEL_KEY, make_settings, point_cli_at

FIELDS = {
    "ATP_WAREHOUSE": "warehouse",
    "ATP_LANDING_DIR": "landing_dir",
    "ATP_PUBLISHED": "published",
    "ATP_REPORT_DIR": "report_dir",
}
FILES = ("ATP_WAREHOUSE", "ATP_PUBLISHED")  # the others are folders


def settings_with(tmp_path, variable, path, **changes):
    base = make_settings(tmp_path / "ok", "http://127.0.0.1:9", **changes)
    return replace(base, **{FIELDS[variable]: path})


def refused(settings, **kwargs) -> str:
    with pytest.raises(ConfigError) as raised:
        check_paths(settings, **kwargs)
    message = str(raised.value)
    assert "\n" not in message and SENTINEL_KEY not in message
    return message


@contextmanager
def read_only_folder(folder: Path):
    """A folder this process cannot create files in: chmod for a user, chattr +i for root
    (whom file modes do not stop)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    if not shutil.which("chattr"):
        pytest.skip("running as root without chattr: no folder is read-only for root here")
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root and chattr +i is refused here")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_the_four_paths_and_what_each_must_be(tmp_path):
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    assert path_settings(settings) == [
        ("ATP_WAREHOUSE", tmp_path / "warehouse.duckdb", "file"),
        ("ATP_LANDING_DIR", tmp_path / "landing", "folder"),
        ("ATP_PUBLISHED", tmp_path / "atp.duckdb", "replaced"),
        ("ATP_REPORT_DIR", tmp_path / "report", "folder"),
    ]


def test_paths_that_do_not_exist_yet_pass_and_nothing_is_created(tmp_path):
    settings = make_settings(tmp_path / "new" / "data", "http://127.0.0.1:9")
    check_paths(settings)
    assert list(tmp_path.iterdir()) == []  # not even the probe file is left


def test_an_existing_read_only_published_copy_passes_it_is_replaced_not_written(tmp_path):
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    settings.published.write_bytes(b"old copy")
    settings.published.chmod(0o444)
    check_paths(settings)


@pytest.mark.parametrize("variable", list(FIELDS))
@pytest.mark.parametrize("kernel", ["/proc", "/sys"])
def test_a_path_under_proc_or_sys_is_refused_naming_the_variable(tmp_path, variable, kernel):
    path = Path(kernel) / "atp" / ("x.duckdb" if variable in FILES else "folder")
    message = refused(settings_with(tmp_path, variable, path))
    assert message == (
        f"{variable}={path}: is under {kernel}, a kernel filesystem that cannot hold the "
        f"project's files. Point {variable} at a folder on a disk (e.g. under data/)."
    )


def test_a_symlink_into_proc_is_refused_too(tmp_path):
    (tmp_path / "link").symlink_to("/proc/self")
    message = refused(settings_with(tmp_path, "ATP_LANDING_DIR", tmp_path / "link" / "landing"))
    assert message.startswith(f"ATP_LANDING_DIR={tmp_path}/link/landing: is under /proc")


@pytest.mark.parametrize("variable", list(FIELDS))
def test_a_file_where_a_folder_is_needed_is_refused_naming_the_variable(tmp_path, variable):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    # A folder variable pointing at the file, or a file variable whose folder is the file.
    path = blocker / "x.duckdb" if variable in FILES else blocker
    message = refused(settings_with(tmp_path, variable, path))
    assert message == (
        f"{variable}={path}: {blocker} is a file where a folder is needed. Remove or rename it, "
        f"or point {variable} elsewhere."
    )


def test_a_file_deeper_up_the_path_is_found(tmp_path):
    (tmp_path / "blocker").write_text("a file")
    path = tmp_path / "blocker" / "a" / "b" / "landing"
    message = refused(settings_with(tmp_path, "ATP_LANDING_DIR", path))
    assert message.startswith(f"ATP_LANDING_DIR={path}: {tmp_path / 'blocker'} is a file where")


@pytest.mark.parametrize("variable", FILES)
def test_a_folder_where_a_file_is_needed_is_refused_naming_the_variable(tmp_path, variable):
    folder = tmp_path / "x.duckdb"
    folder.mkdir()
    message = refused(settings_with(tmp_path, variable, folder))
    assert message == (
        f"{variable}: {folder} is a folder where a file is needed. Remove or rename it, or "
        f"point {variable} at a file name in a writable folder."
    )


def test_a_folder_where_the_warehouse_lock_file_goes_is_refused(tmp_path):
    warehouse = tmp_path / "w" / "warehouse.duckdb"
    (tmp_path / "w" / "warehouse.duckdb.lock").mkdir(parents=True)
    message = refused(settings_with(tmp_path, "ATP_WAREHOUSE", warehouse))
    assert message.startswith(f"ATP_WAREHOUSE: {warehouse}.lock is a folder where a file is")


@pytest.mark.parametrize("variable", list(FIELDS))
def test_a_folder_that_cannot_be_written_is_refused_naming_the_variable(tmp_path, variable):
    with read_only_folder(tmp_path / "ro") as folder:
        path = folder / ("x.duckdb" if variable in FILES else "sub")
        message = refused(settings_with(tmp_path, variable, path))
    if variable in FILES:
        assert message.startswith(f"{variable}={path}: cannot write in {folder} (")
    else:  # the folder does not exist and cannot be created
        assert message.startswith(f"{variable}={path}: cannot create {path} under {folder} (")
    assert message.endswith(
        f"). Point {variable} at a writable folder, or give this user write access to it."
    )


def test_an_existing_landing_zone_that_cannot_be_written_is_refused(tmp_path):
    with read_only_folder(tmp_path / "landing") as folder:
        message = refused(settings_with(tmp_path, "ATP_LANDING_DIR", folder))
    assert message.startswith(f"ATP_LANDING_DIR={folder}: cannot write in {folder} (")


def test_a_rebuild_only_reads_the_landing_zone(tmp_path):
    with read_only_folder(tmp_path / "landing") as folder:
        check_paths(settings_with(tmp_path, "ATP_LANDING_DIR", folder), source="landing")


def test_a_rebuild_without_a_landing_zone_is_refused(tmp_path):
    path = tmp_path / "nowhere"
    message = refused(settings_with(tmp_path, "ATP_LANDING_DIR", path), source="landing")
    assert message == (
        f"ATP_LANDING_DIR={path}: no such folder, so there is nothing to rebuild from. Point "
        "ATP_LANDING_DIR at the landing zone, or fetch from the API (make run)."
    )


def test_the_disk_floor_is_checked_once_per_filesystem_naming_its_variables(tmp_path):
    # No disk here has 10 TB free: the floor alone fails, whatever the real free space is.
    settings = make_settings(tmp_path, "http://127.0.0.1:9", min_free_mb=10**7)
    message = refused(settings)
    assert message.startswith(
        "ATP_WAREHOUSE, ATP_LANDING_DIR, ATP_PUBLISHED, ATP_REPORT_DIR: not enough disk space "
        "to start a run: "
    )
    assert "plus a floor of 10000000 MB (ATP_MIN_FREE_MB)" in message


def test_the_disk_floor_names_only_the_variables_on_the_full_filesystem(tmp_path, monkeypatch):
    from ingest import diskspace

    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    settings = replace(settings, report_dir=Path("/dev/shm/atp-preflight-report"))
    if Path("/dev/shm").stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the test folder here")
    real = diskspace.shutil.disk_usage

    def usage(path):
        found = real(path)
        full = str(path).startswith("/dev/shm")
        return found._replace(free=10 * diskspace.MB) if full else found

    monkeypatch.setattr(diskspace.shutil, "disk_usage", usage)
    message = refused(settings)
    assert message.startswith("ATP_REPORT_DIR: not enough disk space to start a run: 10 MB free")


def test_a_bad_path_stops_before_any_request(env, fake_api):
    # The way the raw step and the CLI call it: check_paths, then the first request.
    settings = replace(env, landing_dir=Path("/proc/atp/landing"))
    with pytest.raises(ConfigError, match=r"^ATP_LANDING_DIR=/proc/atp/landing: is under /proc"):
        check_paths(settings)
        list(load_years(settings, "imports", [2024, 2025, 2026]))
    assert fake_api.request_count == 0
    assert not env.warehouse.exists()


def test_atp_run_with_a_bad_path_makes_no_request_and_names_the_variable(
    env, fake_api, monkeypatch, capsys
):
    settings = replace(env, landing_dir=Path("/proc/atp/landing"))
    with pytest.raises(ConfigError, match=r"^ATP_LANDING_DIR=/proc/atp/landing: is under /proc"):
        run_pipeline(settings, "api", years=[2025], instance=dg.DagsterInstance.ephemeral())
    assert fake_api.request_count == 0
    # The command line: one line on stderr, exit 2, no request (it was two requests, then
    # "not enough disk space to store imports 2025: 0 MB free on the filesystem of /proc/...").
    point_cli_at(monkeypatch, replace(settings, start_year=2025))
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("atp run: ATP_LANDING_DIR=/proc/atp/landing: is under /proc")
    assert err.count("\n") == 1 and SENTINEL_KEY not in err
    assert fake_api.request_count == 0 and not env.warehouse.exists()


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("/proc/atp/warehouse.duckdb", "No such file or directory"),  # was a bare [Errno 2]
        ("blocker/warehouse.duckdb", "a file stands where a folder is needed"),
        ("blocker/deeper/warehouse.duckdb", "a file stands where a folder is needed"),
    ],
)
def test_a_lock_file_that_cannot_be_created_is_one_line_naming_atp_warehouse(
    tmp_path, where, reason
):
    (tmp_path / "blocker").write_text("a file")
    warehouse = tmp_path / where
    with pytest.raises(WarehouseError) as raised:
        with writer_lock(warehouse):
            pass
    assert str(raised.value) == (
        f"cannot create the lock file {warehouse}.lock beside ATP_WAREHOUSE ({reason}). Point "
        "ATP_WAREHOUSE at a file in a folder this user can write."
    )
