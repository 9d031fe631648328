"""The landing zone: every successful response kept verbatim, one file per fetch, never overwritten.

Layout: `<ATP_LANDING_DIR>/<flow>/<year>/<flow>_<year>_<fetched-at>.json` and beside it a
`.manifest.json` with the endpoint, the request without the key, fetched-at (UTC), sha256, rows
and the months present. Files are written to a temporary name and hard-linked into place, so a
reader sees a whole file or none, and an existing file is never replaced.

A dataset asked in several requests a year (product detail) lands a folder per fetch instead of
a file, `<flow>_<year>_<fetched-at>/`, holding each answer as the API sent it; the manifest's
`parts` name each answer's file, request (without the key), checksum and what it asked for. The
answers are written to `.incoming-<fetched-at>/` as they come, and the folder is renamed into
place once all have come and been checked.

Every fetch gets its own manifest. A response with the same content as the partition's newest
landed one (most nights: nothing was released) is not stored twice, even if its bytes differ (the
same rows in another order): its manifest names the existing file. Content is the parsed table's
content hash (`content_sha256`), not the bytes' checksum; a manifest written before that field
existed has its content hash computed from its file when needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingest.answer_files import AnswerFile, CheckedAnswers, check_answer_files
from ingest.census_format import CensusTable, parse_table
from ingest.client import Fetch
from ingest.datasets import DATASETS, HITECH, CensusDataset, check_flow
from ingest.errors import CensusResponseError, LandingError
from ingest.files import write_atomic

MANIFEST_SUFFIX = ".manifest.json"
INCOMING_PREFIX = ".incoming-"


@dataclass(frozen=True)
class LandedFile:
    path: Path
    manifest: dict

    @property
    def fetched_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["fetched_at"])

    @property
    def answers(self) -> list[AnswerFile]:
        """A folder's answers and what each asked for (none for a single file)."""
        return [
            AnswerFile(
                self.path / part["file"],
                tuple(part["codes"]),
                part["first_month"],
                part["last_month"],
                part["asked"],
            )
            for part in self.manifest.get("parts", [])
        ]

    @property
    def data_files(self) -> list[Path]:
        """The files the loader reads: the landed file, or a folder's answers."""
        return [answer.path for answer in self.answers] or [self.path]

    def read_table(self) -> CensusTable | CheckedAnswers:
        """Read the landing back, check it against its manifest's checksums, and parse it."""
        # Manifests from before datasets were declared are all hitech's.
        dataset = DATASETS[self.manifest.get("dataset", HITECH.name)]
        flow, year = self.manifest["flow"], int(self.manifest["year"])
        if "parts" in self.manifest:
            self.check_intact()
            return check_answer_files(dataset, flow, year, self.answers)
        return parse_table(self.read_checked(), flow, year, dataset)

    def content_sha256(self) -> str:
        """The content hash of the landed table: from the manifest, or (a manifest older than
        the field) from the file itself, checked against its checksum."""
        known = self.manifest.get("content_sha256")
        return known if known else self.read_table().content_hash

    def check_intact(self) -> None:
        """Raise LandingError unless every file landed is what its manifest says."""
        if "parts" not in self.manifest:
            self.read_checked()
            return
        for part in self.manifest["parts"]:
            _read_checked(self.path / part["file"], part["sha256"])

    def read_checked(self) -> bytes:
        """The file's bytes, once checked against its manifest's checksum."""
        return _read_checked(self.path, self.manifest["sha256"])


def _read_checked(path: Path, sha256: str) -> bytes:
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise LandingError(f"cannot read landed file {path}: {exc.strerror}") from None
    if hashlib.sha256(body).hexdigest() != sha256:
        raise LandingError(
            f"landed file {path} does not match the sha256 in its manifest: it was changed "
            "or damaged after landing. Remove it and its manifest, then fetch again (make run)."
        )
    return body


@dataclass(frozen=True)
class Incoming:
    """A fetch's answers as written when they came (see incoming_dir): the folder, and each
    answer's manifest entry (file, sha256, bytes, request, codes, first_month, last_month,
    asked)."""

    folder: Path
    parts: list[dict]


def land(landing_dir: Path, fetch: Fetch, incoming: Incoming | None = None) -> LandedFile:
    """Write a released fetch's body and manifest into the landing zone; or move the answers
    `incoming` into place, with their manifest."""
    assert fetch.table is not None, "only released fetches are landed"
    stamp = landing_stamp(fetch.fetched_at)
    table = fetch.table
    dataset = table.dataset
    fields = {
        "dataset": dataset.name,
        "flow": fetch.flow,
        "year": fetch.year,
        "endpoint": fetch.endpoint,
        "request": fetch.request_url,
        "params": fetch.params,
        "fetched_at": fetch.fetched_at.isoformat(),
        "rows": table.row_count,
        "missing_values": table.missing_values,
        "first_month": table.months[0],
        "last_month": table.months[-1],
        "months": table.months,
    }
    root = dataset.landing_root(landing_dir)
    if incoming is None:
        name = f"{fetch.flow}_{fetch.year}_{stamp}.json"
        return land_body(root, fetch.flow, fetch.year, name, fetch.body, table.content_hash, fields)
    parts = incoming.parts
    name = f"{fetch.flow}_{fetch.year}_{stamp}"
    checksum = hashlib.sha256(
        "".join(f"{part['file']} {part['sha256']}\n" for part in parts).encode()
    ).hexdigest()
    size = sum(part["bytes"] for part in parts)
    fields["parts"] = parts
    return _land(
        root,
        fetch.flow,
        fetch.year,
        name,
        table.content_hash,
        fields,
        checksum,
        size,
        lambda path: _rename_new(incoming.folder, path),
        discard=lambda: shutil.rmtree(incoming.folder, ignore_errors=True),
    )


def land_body(
    root: Path, flow: str, year: int, name: str, body: bytes, content: str, fields: dict
) -> LandedFile:
    """Land `body` as `<root>/<flow>/<year>/<name>` with a manifest beside it (`fields`, the
    checksums, the file's name); when the newest landing already holds `content` intact, the
    manifest names that file and no new file is written. Every landed source comes through here."""
    response_sha256 = hashlib.sha256(body).hexdigest()
    write = lambda path: _write_new(path, body)  # noqa: E731
    return _land(root, flow, year, name, content, fields, response_sha256, len(body), write)


def _land(
    root: Path,
    flow: str,
    year: int,
    name: str,
    content: str,
    fields: dict,
    response_sha256: str,
    size: int,
    write,
    discard=lambda: None,
) -> LandedFile:
    folder = partition_dir(root, flow, year)
    path = folder / name
    manifest = {
        **fields,
        "sha256": response_sha256,  # of the file (or a folder's answers) this manifest names
        "response_sha256": response_sha256,  # of this fetch's response
        "content_sha256": content,
        "bytes": size,
        "file": path.name,
    }
    previous = newest_landed(root, flow, year)
    # Reuse the previous file only if its bytes on disk are still what its manifest says: the
    # warehouse loads the landed file, so a damaged one must not stand in for this response.
    if previous is not None and _same_content(previous, content):
        path = previous.path
        manifest.update(
            file=path.name, sha256=previous.manifest["sha256"], bytes=previous.manifest["bytes"]
        )
        manifest.pop("parts", None)  # the files named are the previous landing's
        if "parts" in previous.manifest:
            manifest["parts"] = previous.manifest["parts"]
        discard()
    else:
        write(path)
    _write_new(
        folder / f"{Path(name).stem}{MANIFEST_SUFFIX}", json.dumps(manifest, indent=2).encode()
    )
    return LandedFile(path=path, manifest=manifest)


def landing_stamp(fetched_at: datetime) -> str:
    """How a fetch's time is spelt in the names of what it lands."""
    return f"{fetched_at:%Y%m%dT%H%M%S%fZ}"


def incoming_dir(
    landing_dir: Path, dataset: CensusDataset, flow: str, year: int, fetched_at: datetime
) -> Path:
    """Where a fetch's answers are written as they come, in the partition's folder (so that
    landing them is a rename). What a killed run left there is removed first."""
    folder = partition_dir(dataset.landing_root(landing_dir), flow, year)
    for stale in folder.glob(f"{INCOMING_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return folder / f"{INCOMING_PREFIX}{landing_stamp(fetched_at)}"


def _rename_new(source: Path, target: Path) -> None:
    if target.exists():
        raise LandingError(f"{target} already exists; landed files are never overwritten.")
    try:
        os.rename(source, target)
    except OSError as exc:
        raise LandingError(f"cannot move {source} to {target}: {exc.strerror}.") from None


def _same_content(landed: LandedFile, content: str) -> bool:
    """Whether a landed file holds this content and is intact on disk."""
    try:
        if landed.content_sha256() != content:
            return False
        landed.check_intact()
    except (LandingError, CensusResponseError):
        return False
    return True


def landed_files(
    landing_dir: Path, flow: str, year: int, *, strict: bool = False
) -> list[LandedFile]:
    """Every complete landing of a partition (data file and manifest), oldest first.

    A manifest that cannot be read, or lacks a field every manifest has, is a LandingError.
    A manifest whose data file is missing is skipped, unless `strict` (the rebuild): then it is
    a LandingError naming both, since a rebuild without that vintage would be a year short."""
    folder = partition_dir(landing_dir, flow, year)
    found = []
    for manifest_path in sorted(folder.glob(f"*{MANIFEST_SUFFIX}")):
        manifest = _read_manifest(manifest_path)
        data_path = folder / manifest["file"]
        if data_path.exists():
            found.append(LandedFile(path=data_path, manifest=manifest))
        elif strict:
            raise LandingError(
                f"manifest {manifest_path} names {data_path.name}, which is missing: restore "
                f"{data_path} from a backup, or remove the manifest and fetch again with make run."
            )
    return sorted(found, key=lambda f: (f.fetched_at, f.path.name))


# Fields every manifest has had since the landing zone's first version.
_MANIFEST_FIELDS = ("file", "fetched_at", "sha256", "flow", "year")


def _read_manifest(manifest_path: Path) -> dict:
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise LandingError(f"cannot read manifest {manifest_path}: {exc}") from None
    damaged = f"manifest {manifest_path} is damaged"
    fix = "restore it from a backup, or remove it and fetch again with make run."
    if not isinstance(manifest, dict):
        raise LandingError(f"{damaged} (not a JSON object): {fix}")
    for field in _MANIFEST_FIELDS:
        if field not in manifest:
            raise LandingError(f'{damaged} (no "{field}" field): {fix}')
    name = manifest["file"]
    if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name:
        raise LandingError(f'{damaged} ("file" is not a file name beside it): {fix}')
    try:
        datetime.fromisoformat(manifest["fetched_at"])
    except (TypeError, ValueError):
        raise LandingError(f'{damaged} ("fetched_at" is not a time): {fix}') from None
    return manifest


def newest_landed(landing_dir: Path, flow: str, year: int) -> LandedFile | None:
    files = landed_files(landing_dir, flow, year)
    return files[-1] if files else None


def partition_dir(landing_dir: Path, flow: str, year: int) -> Path:
    check_flow(flow)
    return landing_dir / flow / str(year)


def _write_new(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data, replace=False)  # a landed file is never overwritten
    except FileExistsError:
        raise LandingError(f"{path} already exists; landed files are never overwritten.") from None
    except OSError as exc:
        raise LandingError(f"cannot write {path}: {exc.strerror}. Check ATP_LANDING_DIR.") from None
