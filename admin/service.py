"""Administration behind the app's 管理 tab: login sessions, uploads, re-indexing, removal, collections,
and the answering settings (answer mode, model server, key, time limit) of the running server.

The app only wires widgets to these methods. Every action takes the caller's session token and checks
it here, on the server, before doing anything: hiding the tab is never the protection. With no admin
password configured, every action (login included) is refused.

Uploads are copied into `settings.upload_dir / <collection>/` under a sanitised name (never a path),
staged in a hidden folder while they are indexed and moved into place only when indexing succeeded, so
a failed upload leaves neither a file nor a changed document behind. All writes are serialised by one
lock; readers (the chat) keep working on the same `Archive` objects meanwhile.

Everything indexed is readable by every chat user, so a re-index reads only folders under
`settings.reindex_roots` (default: the upload folder), checked after symlinks and `..` are resolved. A
document's doc_id is its path relative to the folder given, so two folders may both hold `report.txt`:
the file each document came from is recorded in the catalog's meta table, and a file is never indexed
over a document of the same doc_id from another place (it is refused in the report instead).

Answering settings changed here replace the settings object of every pooled QA (`model_copy(update=...)`)
and apply to the next question; they live in this process only (a restart reads the settings file again).
The API key is write-only: nothing here returns it, only whether one is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import shutil
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from admin.answering import ANSWER_MODES, PROBE_TIMEOUT_S, AnswerView, check_answer_settings, probe_model
from admin.messages import (
    ACTION_REINDEX,
    ACTION_UPLOAD,
    MSG_ANSWER_NOW,
    MSG_ANSWER_SAVED,
    MSG_BAD_NAME,
    MSG_BAD_TYPE,
    MSG_COLLECTION_CREATED,
    MSG_COLLECTION_EXISTS,
    MSG_DISABLED,
    MSG_DOC_MISSING,
    MSG_DOCS,
    MSG_DONE,
    MSG_DUPLICATE,
    MSG_EMPTY_PASSWORD,
    MSG_FOLDER_MISSING,
    MSG_FOLDER_NOT_ALLOWED,
    MSG_FOLDER_RELATIVE,
    MSG_INDEX_ERROR,
    MSG_LOGGED_IN,
    MSG_LOGGED_OUT,
    MSG_LOGIN_REQUIRED,
    MSG_NO_DOC,
    MSG_NO_FILES,
    MSG_NO_FOLDER,
    MSG_NOT_SAVED,
    MSG_OTHER_SOURCE,
    MSG_PROBE_EXTRACTIVE,
    MSG_PROBE_FAILED,
    MSG_PROBE_OK,
    MSG_REMOVED,
    MSG_REPLACED,
    MSG_RUNTIME_ONLY,
    MSG_SAME,
    MSG_SYNC_EMPTY,
    MSG_SYNC_REMOVED,
    MSG_TOO_BIG,
    MSG_UNKNOWN_COLLECTION,
    MSG_UNREADABLE,
    MSG_WRONG_PASSWORD,
    STATUS_LABELS,
)
from admin.sessions import Sessions
from admin.uploads import (
    ALLOWED_EXTENSIONS,
    COPY_CHUNK,
    STAGING,
    check_collection_name,
    check_upload,
    collection_folder_name,
    drop_controls,
    inside,
    mb,
    sanitize_filename,
)
from bot import llm
from bot.pool import QAPool, UnknownCollection
from bot.qa import QA
from core.settings import Settings
from ingest import discover
from ingest.model import IngestError
from vectorstore.archive import Archive, FileResult, IngestReport, ProgressFn

log = logging.getLogger("speechqa.admin")


def _source(path: Path) -> str:
    """Where a file is kept on the server: its folders resolved (the file itself may be a symlink)."""
    return str(path.parent.resolve() / path.name)


def _source_key(collection: str, doc_id: str) -> str:
    return "admin.source:" + json.dumps([collection, doc_id], ensure_ascii=False)


def _record_source(archive: Archive, doc_id: str, source: str) -> None:
    """Remember, in the catalog's meta table, the file a document was indexed from (with its content key,
    so that a later replacement by other means makes the record stale)."""
    row = archive.catalog.document(archive.collection, doc_id)
    if row is not None:
        value = json.dumps({"source": source, "sha256": row.sha256}, ensure_ascii=False)
        archive.catalog.set_meta(_source_key(archive.collection, doc_id), value)


def _recorded_source(archive: Archive, doc_id: str, sha256: str) -> str | None:
    """The file the document with this content key was indexed from by an admin action; None if unknown."""
    value = archive.catalog.get_meta(_source_key(archive.collection, doc_id))
    if not value:
        return None
    record = json.loads(value)
    return str(record["source"]) if record.get("sha256") == sha256 else None


@dataclass
class ActionResult:
    """What an admin action did. `rows` fill the report or document table; `changed` means the archive
    changed, so lists shown elsewhere should be refreshed."""

    ok: bool
    message: str
    rows: list[list[object]] = field(default_factory=list)
    changed: bool = False
    answer: AnswerView | None = None  # the answering settings in effect (answer-settings actions only)


class Admin:
    """The admin actions. Each takes the session token returned by `login` and refuses without a valid one."""

    def __init__(self, settings: Settings, pool: QAPool, fail_delay_s: float = 0.5,
                 sessions: Sessions | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.fail_delay_s = fail_delay_s
        self.sessions = sessions or Sessions()
        self.write_lock = threading.Lock()
        self.settings_lock = threading.Lock()  # not the write lock: a long re-index must not block a mode change
        self.upload_root = Path(settings.uploads)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.admin_password.get_secret_value())

    @property
    def max_upload_bytes(self) -> int:
        return int(self.settings.max_upload_mb * 2**20)

    # --- login ---
    def login(self, password: str | None) -> tuple[str, str]:
        """(token, message): a fresh token on the right password, ("", reason) otherwise."""
        if not self.enabled:
            return "", MSG_DISABLED
        if not password:
            return "", MSG_EMPTY_PASSWORD
        expected = self.settings.admin_password.get_secret_value().encode("utf-8")
        if not hmac.compare_digest(str(password).encode("utf-8"), expected):
            log.warning("admin login failed")
            if self.fail_delay_s > 0:
                time.sleep(self.fail_delay_s)  # slows guessing down
            return "", MSG_WRONG_PASSWORD
        log.info("admin logged in")
        return self.sessions.issue(), MSG_LOGGED_IN

    def logout(self, token: str | None) -> str:
        self.sessions.revoke(token)
        return MSG_LOGGED_OUT

    def refusal(self, token: str | None) -> str:
        """"" when the token belongs to a logged-in admin session, else why the action is refused."""
        if not self.enabled:
            return MSG_DISABLED
        if not self.sessions.valid(token):
            return MSG_LOGIN_REQUIRED
        return ""

    def is_admin(self, token: str | None) -> bool:
        return not self.refusal(token)

    def _qa(self, collection: str | None) -> QA:
        return self.pool.get(collection)

    def _authorized(self, token: str | None, collection: str | None) -> QA | ActionResult:
        """The collection's QA for a valid admin session, else the refusal to return (checked on the server)."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        try:
            return self._qa(collection)
        except UnknownCollection:
            return ActionResult(False, MSG_UNKNOWN_COLLECTION.format(name=collection))

    def upload_folder(self, collection: str) -> Path:
        folder = self.upload_root / collection_folder_name(collection)
        if not inside(folder, self.upload_root):  # cannot happen with a sanitised name; checked anyway
            raise ValueError(f"unsafe upload folder for collection {collection!r}")
        return folder

    # --- reading ---
    def documents(self, token: str | None, collection: str | None) -> ActionResult:
        """Title, date, passages, doc_id of every document, newest first."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        docs = sorted(qa.archive.documents(), key=lambda d: (d.date or "", d.title or "", d.doc_id), reverse=True)
        rows: list[list[object]] = [[d.title or d.doc_id, d.date or "", d.n_passages, d.doc_id] for d in docs]
        return ActionResult(True, MSG_DOCS.format(name=qa.archive.collection, n=len(rows)), rows)

    # --- writing ---
    def upload(self, token: str | None, collection: str | None, files: Sequence[str | Path | tuple[str | Path, str]],
               progress: ProgressFn | None = None) -> ActionResult:
        """Validate, save and index uploaded files. An item is a path (its name is the uploaded name) or
        (path, uploaded name)."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        items = [(Path(f[0]), str(f[1])) if isinstance(f, tuple) else (Path(f), Path(f).name) for f in files or []]
        if not items:
            return ActionResult(False, MSG_NO_FILES)
        archive = qa.archive
        with self.write_lock:
            t0 = time.perf_counter()
            folder = self.upload_folder(archive.collection)
            staging = folder / STAGING
            staging.mkdir(parents=True, exist_ok=True)
            rows: dict[str, list[object]] = {}
            order: list[str] = []
            staged: dict[str, Path] = {}
            refused_rows: list[list[object]] = []
            for src, original in items:
                name = sanitize_filename(original)
                label = name or original
                if name in staged:
                    refused_rows.append([label, STATUS_LABELS["failed"], 0, MSG_DUPLICATE.format(name=name)])
                    continue
                error = self._stage(src, name, staging)
                if not error and self._from_elsewhere(archive, name, _source(folder / name), staging / name,
                                                      owned=(folder / name).is_file()):
                    (staging / name).unlink(missing_ok=True)
                    error = MSG_OTHER_SOURCE.format(doc_id=name)
                if error:
                    refused_rows.append([label, STATUS_LABELS["failed"], 0, error])
                    continue
                staged[name] = staging / name
                order.append(name)
            report = IngestReport()
            if staged:
                try:
                    report = archive.index_paths(list(staged.values()), progress=progress)
                except Exception as exc:  # keep nothing half-done on disk; the archive recovers itself
                    log.exception("indexing uploads failed")
                    for path in staged.values():
                        path.unlink(missing_ok=True)
                    return ActionResult(False, MSG_INDEX_ERROR.format(error=exc), refused_rows)
            for r in report.results:
                name = r.doc_id
                path = staged.get(name)
                if path is None:
                    continue
                note = r.error
                if r.status in ("indexed", "unchanged"):
                    target = folder / name
                    replaced = target.exists() or target.is_symlink()
                    if target.is_symlink() or target.is_dir():
                        self._discard(target)
                    os.replace(path, target)
                    _record_source(archive, name, _source(target))
                    note = MSG_SAME if r.status == "unchanged" else (MSG_REPLACED if replaced else "")
                else:
                    path.unlink(missing_ok=True)
                    note = (r.error or STATUS_LABELS["failed"]) + MSG_NOT_SAVED
                rows[name] = [name, STATUS_LABELS.get(r.status, r.status), r.passages, note]
            for name in order:  # a staged file the indexer skipped: should not happen, never kept
                if name not in rows:
                    (staging / name).unlink(missing_ok=True)
                    rows[name] = [name, STATUS_LABELS["failed"], 0, MSG_BAD_TYPE.format(
                        ext=os.path.splitext(name)[1], allowed=" ".join(ALLOWED_EXTENSIONS))]
            self._discard(staging)
            if report.count("indexed"):
                archive.refresh_keyword()
            table = [rows[n] for n in order] + refused_rows
            failed = len(refused_rows) + report.count("failed")
            message = MSG_DONE.format(action=ACTION_UPLOAD, indexed=report.count("indexed"),
                                      unchanged=report.count("unchanged"), failed=failed, removed="",
                                      seconds=time.perf_counter() - t0)
            log.info("admin upload to %s: %s", archive.collection, report.summary())
            return ActionResult(failed == 0, message, table, changed=report.count("indexed") > 0)

    def _stage(self, src: Path, name: str, staging: Path) -> str:
        """Copy one upload into the staging folder; the reason when it is refused."""
        try:
            size = src.stat().st_size
        except (OSError, ValueError):
            return MSG_UNREADABLE
        error = check_upload(name, size, self.max_upload_bytes)
        if error:
            return error
        target = staging / name
        if not inside(target, staging) or target.parent.resolve() != staging.resolve():
            return MSG_BAD_NAME
        copied = 0
        try:
            with src.open("rb") as fin, open(target, "wb") as fout:
                while chunk := fin.read(COPY_CHUNK):
                    copied += len(chunk)
                    if copied > self.max_upload_bytes:  # grew after the size check
                        break
                    fout.write(chunk)
        except OSError:
            target.unlink(missing_ok=True)
            return MSG_UNREADABLE
        if copied > self.max_upload_bytes:
            target.unlink(missing_ok=True)
            return MSG_TOO_BIG.format(size=mb(copied), limit=f"{self.max_upload_bytes / 2**20:g} MB")
        return ""

    @staticmethod
    def _discard(path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink(missing_ok=True)
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)

    def reindex_roots(self) -> list[Path]:
        """The folders a re-index may read, resolved: `settings.reindex_roots`, else the upload folder."""
        roots = self.settings.reindex_roots or [self.upload_root]
        return [Path(root).expanduser().resolve() for root in roots]

    def reindex(self, token: str | None, collection: str | None, folder: str | None, sync: bool = False,
                progress: ProgressFn | None = None) -> ActionResult:
        """Index a server-side folder (or file) under one of `reindex_roots` incrementally; with `sync`, remove
        documents no longer in it. A file whose doc_id belongs to a document from another place is refused."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        text = drop_controls(str(folder or "")).strip().strip("\"'").strip()
        if not text:
            return ActionResult(False, MSG_NO_FOLDER)
        path = Path(text).expanduser()
        if not path.is_absolute():  # relative to the server's working folder would surprise the admin
            return ActionResult(False, MSG_FOLDER_RELATIVE)
        roots = self.reindex_roots()
        path = path.resolve()  # symlinks followed and `..` removed before the check; indexed as checked
        if not any(path.is_relative_to(root) for root in roots):
            log.warning("admin re-index outside the allowed roots refused: %s", path)
            return ActionResult(False, MSG_FOLDER_NOT_ALLOWED.format(roots="、".join(map(str, roots)), path=text))
        if not path.exists():
            return ActionResult(False, MSG_FOLDER_MISSING.format(path=text))
        archive = qa.archive
        with self.write_lock:
            t0 = time.perf_counter()
            try:
                files = discover([path])
                if sync and not files:
                    return ActionResult(False, MSG_SYNC_EMPTY)
                report = self._index_files(archive, files, bool(sync), progress)
            except IngestError as exc:
                return ActionResult(False, str(exc))
            except Exception as exc:
                log.exception("re-index of %s failed", path)
                return ActionResult(False, MSG_INDEX_ERROR.format(error=exc))
            rows = [self._report_row(r) for r in report.results]
            removed = report.count("removed")
            message = MSG_DONE.format(action=ACTION_REINDEX, indexed=report.count("indexed"),
                                      unchanged=report.count("unchanged"), failed=len(report.failed),
                                      removed=f"，移除 {removed} 个" if sync else "",
                                      seconds=time.perf_counter() - t0)
            log.info("admin re-index of %s into %s: %s", path, archive.collection, report.summary())
            return ActionResult(not report.failed, message, rows,
                                changed=bool(report.count("indexed") or removed))

    def _index_files(self, archive: Archive, files: list[tuple[Path, str]], sync: bool,
                     progress: ProgressFn | None) -> IngestReport:
        """`Archive.index_files`, refusing a file whose doc_id belongs to a document from another place."""

        def refuse(path: Path, doc_id: str) -> str:
            if self._from_elsewhere(archive, doc_id, _source(path), path):
                return MSG_OTHER_SOURCE.format(doc_id=doc_id)
            return ""

        return archive.index_files(files, progress, sync, refuse=refuse,
                                   indexed=lambda path, doc_id: _record_source(archive, doc_id, _source(path)))

    def _from_elsewhere(self, archive: Archive, doc_id: str, source: str, path: Path, owned: bool = False) -> bool:
        """Whether indexing the file at `path` (kept at `source`) as `doc_id` would replace a document that
        came from another place. A document whose place was not recorded (indexed by the CLI, or before
        places were recorded) may be replaced only by identical bytes, or when `owned` (its uploaded file)."""
        row = archive.catalog.document(archive.collection, doc_id)
        if row is None:
            return False
        recorded = _recorded_source(archive, doc_id, row.sha256)
        if recorded is not None:
            return recorded != source
        if owned:
            return False
        try:
            if path.stat().st_size > self.settings.max_file_mb * 2**20:
                return False  # refused by the indexer as too big: nothing is replaced
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return False  # unreadable: the indexer reports why, nothing is replaced
        return archive.content_key(digest, doc_id) != row.sha256

    @staticmethod
    def _report_row(r: FileResult) -> list[object]:
        note = r.error
        if r.status == "removed":
            note = MSG_SYNC_REMOVED
        elif r.status == "unchanged":
            note = MSG_SAME
        return [r.doc_id, STATUS_LABELS.get(r.status, r.status), r.passages, note]

    def remove(self, token: str | None, collection: str | None, doc_id: str | None) -> ActionResult:
        """Remove one document (and its uploaded file, if it was uploaded); it is never cited again."""
        qa = self._authorized(token, collection)
        if isinstance(qa, ActionResult):
            return qa
        doc_id = str(doc_id or "").strip()
        if not doc_id:
            return ActionResult(False, MSG_NO_DOC)
        archive = qa.archive
        with self.write_lock:
            row = archive.catalog.document(archive.collection, doc_id)
            if row is None or not archive.remove(doc_id):
                return ActionResult(False, MSG_DOC_MISSING.format(doc_id=doc_id))
            archive.refresh_keyword()
            # an uploaded file would come back with the next re-index of the upload folder
            if sanitize_filename(doc_id) == doc_id:
                folder = self.upload_folder(archive.collection)
                uploaded = folder / doc_id
                if inside(uploaded, folder) and (uploaded.is_file() or uploaded.is_symlink()):
                    uploaded.unlink(missing_ok=True)
            log.info("admin removed %s from %s", doc_id, archive.collection)
            return ActionResult(True, MSG_REMOVED.format(title=row.title or doc_id, doc_id=doc_id), changed=True)

    def create_collection(self, token: str | None, name: str | None) -> ActionResult:
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        name = unicodedata.normalize("NFC", str(name or "")).strip()
        error = check_collection_name(name)
        if error:
            return ActionResult(False, error)
        with self.write_lock:
            if self.pool.known(name):
                return ActionResult(False, MSG_COLLECTION_EXISTS.format(name=name))
            self.pool.create(name)
        log.info("admin created collection %s", name)
        return ActionResult(True, MSG_COLLECTION_CREATED.format(name=name), changed=True)

    # --- answering settings ---
    def answer_settings(self, token: str | None) -> ActionResult:
        """The answering settings in effect (the API key only as set / not set)."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        view = AnswerView.of(self.settings)
        return ActionResult(True, MSG_ANSWER_NOW.format(summary=view.summary()), answer=view)

    def set_answer_settings(self, token: str | None, mode: object, base_url: object, model: object,
                            api_key: object, timeout_s: object, clear_key: bool = False) -> ActionResult:
        """Check and apply new answering settings to every collection's QA, for the questions asked from
        now on, in this process only. An empty `api_key` keeps the current key; `clear_key` removes it."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        with self.settings_lock:
            update, error = check_answer_settings(self.settings, mode, base_url, model, api_key, timeout_s,
                                                  clear_key)
            if error:
                return ActionResult(False, error, answer=AnswerView.of(self.settings))
            self.settings = self.settings.model_copy(update=update)
            self.pool.update_settings(update)
            llm.release_models(self.settings)
            view = AnswerView.of(self.settings)
        log.info("admin changed the answering settings: mode=%s base_url=%s model=%s key=%s timeout=%gs",
                 view.mode, view.base_url, view.model, "set" if view.key_set else "unset", view.timeout_s)
        return ActionResult(True, MSG_ANSWER_SAVED.format(note=MSG_RUNTIME_ONLY.rstrip("。"), summary=view.summary()),
                            changed=True, answer=view)

    def test_answer_settings(self, token: str | None, mode: object, base_url: object, model: object,
                             api_key: object, timeout_s: object, clear_key: bool = False) -> ActionResult:
        """测试连接: check the form's values as `set_answer_settings` does, then send the model one tiny
        prompt under a short time limit. Nothing is saved."""
        refused = self.refusal(token)
        if refused:
            return ActionResult(False, refused)
        update, error = check_answer_settings(self.settings, mode, base_url, model, api_key, timeout_s, clear_key)
        if error:
            return ActionResult(False, error)
        if update["answer_mode"] == "extractive":
            return ActionResult(True, MSG_PROBE_EXTRACTIVE)
        limit = min(float(update["llm_timeout_s"]), PROBE_TIMEOUT_S)
        candidate = self.settings.model_copy(update={**update, "llm_timeout_s": limit})
        t0 = time.perf_counter()
        ok, reason = probe_model(candidate, limit)
        if not ok:
            return ActionResult(False, MSG_PROBE_FAILED.format(reason=reason))
        name = ANSWER_MODES[candidate.answer_mode]
        return ActionResult(True, MSG_PROBE_OK.format(name=name, s=time.perf_counter() - t0))
