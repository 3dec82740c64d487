"""Where transfer files live: Django's storage alias ``"transfers"`` (``settings.STORAGES``).

A folder on this host by default (``ADMINUI_EXPORTS_DIR``), or any S3-compatible bucket through django-storages
(``ADMINUI_STORAGE=s3``) so that every host sees what any worker built. Everything here streams: writes go to a
``.part`` file renamed when complete (local) or to a multipart upload completed at the end (S3), reads come back in
pieces. A failed write keeps nothing and raises :class:`StorageWriteError` with a plain message.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db.models import Q, Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from apps.transfers.digest import OverlappedSha256

logger = logging.getLogger(__name__)

ALIAS = "transfers"
READ_SIZE = 1024 * 1024
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
S3_ERRORS = (BotoCoreError, ClientError)  # what django-storages' S3 backend raises besides OSError


class ExportsDirStorage(FileSystemStorage):
    """A folder storage rooted at ``settings.ADMINUI_EXPORTS_DIR``, read at each use (not frozen at start-up)."""

    @property
    def base_location(self):
        return str(settings.ADMINUI_EXPORTS_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


class StorageProblem(Exception):
    """The transfers storage cannot do what was asked; ``message`` is plain, for the operator."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StorageWriteError(StorageProblem):
    """A file could not be written to the transfers storage; nothing of it was kept."""

    def __init__(self, message: str, *, full: bool = False):
        super().__init__(message)
        self.full = full

    @classmethod
    def wrap(cls, exc: BaseException) -> StorageWriteError:
        if isinstance(exc, StorageWriteError):
            return exc
        if isinstance(exc, OSError) and exc.errno in FULL:
            return cls(
                "The exports storage is full (no space left on the device). Nothing was kept; ask an "
                "administrator to free space or raise its size, then try again.",
                full=True,
            )
        if isinstance(exc, OSError) and not isinstance(exc, S3_ERRORS):
            return cls(f"The exports storage could not be written ({exc.strerror or exc}). Nothing was kept.")
        return cls(f"The shared exports storage refused the file ({_s3_reason(exc)}). Nothing was kept.")


class StorageUnreachable(StorageProblem):
    """The transfers storage did not answer a read, or the file is on a disk this host cannot reach."""


class StorageRefused(StorageProblem):
    """Not enough room (quota or free space) to start writing; nothing was started."""


def transfers_storage() -> Storage:
    return storages[ALIAS]


def is_local(storage: Storage | None = None) -> bool:
    return isinstance(storage or transfers_storage(), FileSystemStorage)


def host_name() -> str:
    return settings.ADMINUI_HOST_NAME


def stored_on() -> str:
    """What a row records about where its file is: this host on a local disk, ``""`` on shared storage."""
    return host_name() if is_local() else ""


def _s3_reason(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error") or {}
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return type(exc).__name__


def _s3_key(storage, name: str) -> str:
    # django-storages' own mapping from a storage name to the bucket key (the configured prefix applied)
    from storages.utils import clean_name

    return storage._normalize_name(clean_name(name))


# -- writing ---------------------------------------------------------------------------------------------------


class _Sink:
    """The file handed to the writer: a failed write is a storage failure (:class:`StorageWriteError`), while
    errors of whatever feeds it (an upstream that drops, an OSError of the source) pass through as they are."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, data) -> int:
        try:
            return self._fh.write(data)
        except (OSError, *S3_ERRORS) as exc:
            raise StorageWriteError.wrap(exc) from exc


@contextmanager
def open_write(name: str) -> Iterator[BinaryIO]:
    """A writable file that becomes ``name`` in the transfers storage only when the block ends without an error.
    Any failure (the block's own, or the storage's: ENOSPC, a refused upload) leaves nothing behind; storage
    failures come out as :class:`StorageWriteError`, the block's own errors as they were."""
    storage = transfers_storage()
    errors = (OSError, *S3_ERRORS)
    if is_local(storage):
        dest = Path(storage.path(name))
        tmp = dest.with_name(dest.name + ".part")
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fh = open(tmp, "wb")  # noqa: SIM115 - closed below, where a full disk may first show
        except OSError as exc:
            raise StorageWriteError.wrap(exc) from exc
        try:
            with fh:
                yield _Sink(fh)
                try:
                    fh.flush()  # buffered bytes meet a full disk here at the latest
                except OSError as exc:
                    raise StorageWriteError.wrap(exc) from exc
            try:
                tmp.replace(dest)
            except OSError as exc:
                raise StorageWriteError.wrap(exc) from exc
        finally:
            tmp.unlink(missing_ok=True)
        return
    try:
        fh = storage.open(name, "wb")
    except errors as exc:
        raise StorageWriteError.wrap(exc) from exc
    done = False
    try:
        yield _Sink(fh)
        try:
            fh.close()  # completes the multipart upload: only now does the object exist
        except errors as exc:
            raise StorageWriteError.wrap(exc) from exc
        done = True
    finally:
        if not done:
            _abort_upload(fh)


def _abort_upload(fh) -> None:
    """Abandon an unfinished multipart upload (django-storages' S3File): the store discards the parts sent so far and
    no object appears; closing the file afterwards must not complete or create anything either."""
    multipart, fh._multipart = getattr(fh, "_multipart", None), None
    if multipart is not None:
        try:
            multipart.abort()
        except S3_ERRORS:  # the store's own lifecycle rule discards it in time (docs/operations.md)
            logger.warning("could not abort an unfinished upload to the transfers storage", exc_info=True)
    buffer, fh._file = getattr(fh, "_file", None), None
    if buffer is not None:
        buffer.close()
    fh._closed = True


def write_stream(name: str, chunks: Iterable[bytes]) -> tuple[int, str]:
    """Write ``chunks`` to ``name``; returns (size, sha256). Errors of the source (an upstream that fails) pass
    through unchanged; either way nothing is kept."""
    digest = OverlappedSha256()
    size = 0
    with open_write(name) as fh:
        for chunk in chunks:
            digest.update(chunk)
            fh.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


# -- reading ---------------------------------------------------------------------------------------------------


def _unreachable(exc: BaseException) -> StorageUnreachable:
    return StorageUnreachable(
        f"This file is on shared storage that this host cannot reach right now ({_s3_reason(exc)}). Try again in "
        "a moment; if it keeps failing, ask an administrator to check this host's access to the bucket."
    )


def open_read(name: str) -> BinaryIO:
    """The file for reading, streamed. Raises FileNotFoundError when it is not there and
    :class:`StorageUnreachable` when shared storage does not answer."""
    storage = transfers_storage()
    if is_local(storage):
        return open(storage.path(name), "rb")  # noqa: SIM115 - the caller closes it
    try:
        return storage.bucket.Object(_s3_key(storage, name)).get()["Body"]
    except S3_ERRORS as exc:
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in {"NoSuchKey", "404", "NotFound"}:
            raise FileNotFoundError(name) from exc
        raise _unreachable(exc) from exc


def read_chunks(name: str) -> Iterator[bytes]:
    """The file's bytes in pieces of up to 1 MiB (opened on the first piece)."""
    fh = open_read(name)
    try:
        while chunk := fh.read(READ_SIZE):
            yield chunk
    finally:
        fh.close()


@contextmanager
def open_local_copy(name: str) -> Iterator[BinaryIO]:
    """A seekable file with the stored bytes (for ``zipfile``): the file itself on a local disk, else a temporary
    copy streamed down to disk (never into memory)."""
    import tempfile

    storage = transfers_storage()
    if is_local(storage):
        with open(storage.path(name), "rb") as fh:
            yield fh
        return
    with tempfile.TemporaryFile() as tmp:
        for chunk in read_chunks(name):
            tmp.write(chunk)
        tmp.seek(0)
        yield tmp


def exists(name: str) -> bool:
    try:
        return transfers_storage().exists(name)
    except S3_ERRORS as exc:
        raise _unreachable(exc) from exc


# -- deleting --------------------------------------------------------------------------------------------------


def delete(name: str) -> None:
    """Remove one file; a missing one is fine, a store that does not answer is logged (the cleanup job tries
    again)."""
    try:
        transfers_storage().delete(name)
    except FileNotFoundError:
        pass
    except (OSError, *S3_ERRORS):
        logger.warning("could not delete %s from the transfers storage", name, exc_info=True)


def delete_folder(prefix: str) -> None:
    """Remove every file under ``prefix/`` (a bundle's per-app parts)."""
    storage = transfers_storage()
    if is_local(storage):
        shutil.rmtree(storage.path(prefix), ignore_errors=True)
        return
    try:
        storage.bucket.objects.filter(Prefix=_s3_key(storage, prefix).rstrip("/") + "/").delete()
    except S3_ERRORS:
        logger.warning("could not delete %s/ from the transfers storage", prefix, exc_info=True)


def listdir(prefix: str) -> list[str]:
    """File names directly under ``prefix`` (none when it does not exist)."""
    try:
        return transfers_storage().listdir(prefix)[1]
    except FileNotFoundError:
        return []


def top_level_names() -> set[str]:
    """Every file and folder name at the top of the storage, in one listing (one paginated request on S3)."""
    try:
        folders, files = transfers_storage().listdir("")
    except FileNotFoundError:
        return set()
    return set(folders) | set(files)


def modified_time(name: str):
    return transfers_storage().get_modified_time(name)


# -- room ------------------------------------------------------------------------------------------------------


def bytes_kept() -> int:
    """What the transfers storage holds, counted from the rows: downloadable bundles and backups, parts of
    bundles still being built, staged imports."""
    from apps.transfers.models import Bundle, BundleItem, StagedImport

    now = timezone.now()
    finished = Bundle.objects.filter(status__in=[Bundle.Status.DONE, Bundle.Status.PARTIAL]).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )
    building = BundleItem.objects.filter(
        status=BundleItem.Status.OK, bundle__status__in=[Bundle.Status.PENDING, Bundle.Status.RUNNING]
    )
    return sum(
        qs.aggregate(total=Sum("size"))["total"] or 0
        for qs in (finished, building, StagedImport.objects.all())
    )


def storage_room_check() -> None:
    """Refuse (:class:`StorageRefused`, a plain message) to start writing when the exports quota is used up or,
    on a local disk, when less than ``ADMINUI_EXPORTS_MIN_FREE_BYTES`` is free."""
    quota = settings.ADMINUI_EXPORTS_QUOTA_BYTES
    if quota:
        used = bytes_kept()
        if used >= quota:
            raise StorageRefused(
                f"The exports storage already holds {filesizeformat(used)}, its quota is "
                f"{filesizeformat(quota)}. Nothing was started: old bundles are removed when their links expire, "
                "or ask an administrator to raise ADMINUI_EXPORTS_QUOTA_BYTES."
            )
    storage = transfers_storage()
    if is_local(storage):
        root = Path(storage.location)
        try:
            root.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(root).free
        except OSError as exc:
            raise StorageRefused(f"The exports folder cannot be used ({exc.strerror or exc}).") from exc
        need = settings.ADMINUI_EXPORTS_MIN_FREE_BYTES
        if free < need:
            raise StorageRefused(
                f"Only {filesizeformat(free)} is free on the disk that keeps exports (at least "
                f"{filesizeformat(need)} must stay free). Nothing was started; ask an administrator to free space."
            )
