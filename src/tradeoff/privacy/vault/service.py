"""The vault: per-subject envelope encryption, keyed tokens, KEK rotation and crypto-shredding.

Every method that touches the database takes an optional ``conn``. Without it the vault uses its own
short transactions (and its cache of unwrapped keys); with it, key rows are read and created inside the
caller's transaction — needed when the caller already holds a SQLite write transaction (a processor's
``apply``), where a second writer would wait on the first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap
from sqlalchemy import Connection, Engine, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tradeoff.core.clock import utcnow
from tradeoff.core.errors import InvalidInput
from tradeoff.platform.db.engine import write_transaction
from tradeoff.platform.db.rls import scope_to_tenant
from tradeoff.privacy.audit.chain import Action
from tradeoff.privacy.audit.trail import AuditTrail
from tradeoff.privacy.keys import KeyProvider, KeyringError, SupportsRewrap, WrappedKey
from tradeoff.privacy.vault.cache import KeyCache
from tradeoff.privacy.vault.envelope import CipherContext, key_version_of, new_dek, seal, unseal
from tradeoff.privacy.vault.erasure_ledger import (
    ERASURE_HOOKS,
    ErasedSubject,
    ErasureHook,
    ErasureLedger,
    ReplayReport,
    erase_subject_rows,
)
from tradeoff.privacy.vault.errors import DecryptionError, SubjectKeyDestroyed
from tradeoff.privacy.vault.store import subject_keys
from tradeoff.privacy.vault.tokens import TokenKind, encode_token, normalize, token_kind

log = logging.getLogger(__name__)
sk = subject_keys.c


@dataclass(frozen=True, slots=True)
class _KeyRow:
    key_version: int
    kek_version: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class RotationReport:
    tenant_id: str
    kek_version: int  # the KEK version keys were re-wrapped to
    total: int  # keys under an older KEK when the run started
    rewrapped: int
    skipped: int  # erased or re-wrapped by someone else meanwhile: nothing to do
    failed: int  # could not be unwrapped (logged); they stay under their old KEK
    remaining: int  # keys still under an older KEK after the run: re-run with resume

    @property
    def complete(self) -> bool:
        return self.remaining == 0 and self.failed == 0


@dataclass(frozen=True, slots=True)
class ShredReport:
    erased_at: datetime
    keys_deleted: int
    derived_rows_deleted: int


ProgressCallback = Callable[[int, int], None]  # (done, total)


class Vault:
    def __init__(
        self,
        engine: Engine,
        provider: KeyProvider,
        *,
        ledger: ErasureLedger,
        cache_size: int = 10_000,
        cache_ttl: float = 60.0,
        hooks: Sequence[ErasureHook] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.provider = provider
        self.ledger = ledger
        self.cache = KeyCache(max_subjects=cache_size, ttl=cache_ttl)
        self._hooks = hooks
        self._clock = clock

    # --- encryption -------------------------------------------------------------------------------

    def encrypt(
        self,
        tenant_id: str,
        subject_id: str,
        plaintext: bytes,
        *,
        table: str,
        column: str,
        row_id: str | int,
        conn: Connection | None = None,
    ) -> bytes:
        """Encrypt under the subject's current data key (created on first use), bound to the place it
        will be stored: decrypting it anywhere else fails."""
        context = _context(tenant_id, subject_id, table, column, row_id)
        key_version, dek = self._current_key(tenant_id, subject_id, conn)
        return seal(dek, key_version, plaintext, context)

    def decrypt(
        self,
        tenant_id: str,
        subject_id: str,
        ciphertext: bytes,
        *,
        table: str,
        column: str,
        row_id: str | int,
        conn: Connection | None = None,
    ) -> bytes:
        """The plaintext, or ``DecryptionError`` (``SubjectKeyDestroyed`` once the subject is erased)."""
        context = _context(tenant_id, subject_id, table, column, row_id)
        dek = self._key(tenant_id, subject_id, key_version_of(ciphertext), conn)
        return unseal(dek, ciphertext, context)

    def encrypt_text(
        self,
        tenant_id: str,
        subject_id: str,
        text: str,
        *,
        table: str,
        column: str,
        row_id: str | int,
        conn: Connection | None = None,
    ) -> bytes:
        return self.encrypt(
            tenant_id, subject_id, text.encode("utf-8"), table=table, column=column, row_id=row_id, conn=conn
        )

    def decrypt_text(
        self,
        tenant_id: str,
        subject_id: str,
        ciphertext: bytes,
        *,
        table: str,
        column: str,
        row_id: str | int,
        conn: Connection | None = None,
    ) -> str:
        plaintext = self.decrypt(
            tenant_id, subject_id, ciphertext, table=table, column=column, row_id=row_id, conn=conn
        )
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionError(f"{table}.{column} row {row_id!r} holds bytes, not text") from None

    def tokenize(self, tenant_id: str, kind: TokenKind | str, value: str) -> str:
        """A stable keyed token (per tenant and kind) for a card fingerprint, loyalty id or e-mail."""
        _check_id("tenant_id", tenant_id, 32)
        token = kind if isinstance(kind, TokenKind) else token_kind(kind)
        return encode_token(self.provider.mac(tenant_id, f"token:{token.value}", normalize(token, value)))

    # --- data keys ----------------------------------------------------------------------------------

    def _current_key(self, tenant_id: str, subject_id: str, conn: Connection | None) -> tuple[int, bytes]:
        if conn is not None:
            row = _latest_row(conn, tenant_id, subject_id) or self._create(tenant_id, subject_id, 1, conn)
            return row.key_version, self._unwrap(tenant_id, row)
        hit = self.cache.latest(tenant_id, subject_id)
        if hit is not None:
            return hit
        with self.engine.connect() as read:
            found = _latest_row(read, tenant_id, subject_id)
        row = found or self._create(tenant_id, subject_id, 1, None)
        dek = self._unwrap(tenant_id, row)
        self.cache.put(tenant_id, subject_id, row.key_version, dek, latest=True)
        return row.key_version, dek

    def _key(self, tenant_id: str, subject_id: str, key_version: int, conn: Connection | None) -> bytes:
        if conn is not None:
            row = _version_row(conn, tenant_id, subject_id, key_version)
        else:
            cached = self.cache.version(tenant_id, subject_id, key_version)
            if cached is not None:
                return cached
            with self.engine.connect() as read:
                row = _version_row(read, tenant_id, subject_id, key_version)
        if row is None:
            raise SubjectKeyDestroyed(
                f"no data key version {key_version} for this subject in tenant {tenant_id}: "
                "the subject was erased, or the ciphertext is not theirs"
            )
        dek = self._unwrap(tenant_id, row)
        if conn is None:
            self.cache.put(tenant_id, subject_id, key_version, dek, latest=False)
        return dek

    def _unwrap(self, tenant_id: str, row: _KeyRow) -> bytes:
        dek = self.cache.unwrapped(tenant_id, row.blob)
        if dek is None:
            try:
                dek = self.provider.unwrap(tenant_id, WrappedKey(row.kek_version, row.blob))
            except InvalidUnwrap:
                raise DecryptionError(
                    f"a data key of tenant {tenant_id} does not unwrap under KEK version {row.kek_version}"
                ) from None
            self.cache.remember_unwrap(tenant_id, row.blob, dek)
        return dek

    def _create(self, tenant_id: str, subject_id: str, key_version: int, conn: Connection | None) -> _KeyRow:
        """Store a new DEK generation; if another writer stored that generation first, use theirs."""
        dek = new_dek()
        wrapped = self.provider.wrap(tenant_id, dek)
        created_at = self._clock()
        if conn is None:
            with write_transaction(self.engine) as own:
                stored = _insert_or_get(own, tenant_id, subject_id, key_version, wrapped, created_at)
        else:
            stored = _insert_or_get(conn, tenant_id, subject_id, key_version, wrapped, created_at)
        if stored.blob == wrapped.blob:
            self.cache.remember_unwrap(tenant_id, stored.blob, dek)
        return stored

    def rotate_subject_key(self, tenant_id: str, subject_id: str, *, conn: Connection | None = None) -> int:
        """Start a new DEK generation for one subject: new data uses it, old data keeps decrypting with
        the generation its ciphertext names (re-encrypt lazily on write)."""
        _check_id("tenant_id", tenant_id, 32)
        _check_id("subject_id", subject_id, 128)
        if conn is None:
            with self.engine.connect() as read:
                latest = _latest_row(read, tenant_id, subject_id)
        else:
            latest = _latest_row(conn, tenant_id, subject_id)
        row = self._create(tenant_id, subject_id, (latest.key_version + 1) if latest else 1, conn)
        self.cache.drop_subject(tenant_id, subject_id)
        return row.key_version

    # --- KEK rotation -------------------------------------------------------------------------------

    def rotate_kek(
        self,
        tenant_id: str,
        *,
        new_version: bool = True,
        batch_size: int = 200,
        on_progress: ProgressCallback | None = None,
        audit: AuditTrail | None = None,
        actor: str = "system",
    ) -> RotationReport:
        """Make a new KEK version current, then re-wrap every data key of the tenant under it, a batch
        per transaction (the provider is called outside the transaction, and each update only applies if
        the row is unchanged), so encryption and decryption go on meanwhile. The data keys themselves —
        and so every ciphertext — stay as they are. ``new_version=False`` resumes an interrupted run.

        With ``audit``: ``key.rotate`` is recorded once the provider made the new version current (or the
        resume began), and ``key.rewrapped`` with the counts when the run ends."""
        _check_id("tenant_id", tenant_id, 32)
        if batch_size < 1:
            raise InvalidInput("batch_size", "must be at least 1")
        target = self.provider.rotate(tenant_id) if new_version else self.provider.current_version(tenant_id)
        self._audit(audit, tenant_id, actor, Action.KEY_ROTATE, {"kek_version": target, "new_version": new_version})
        total = self._count_older(tenant_id, target)
        done = rewrapped = skipped = failed = 0
        if on_progress is not None:
            on_progress(0, total)
        after: tuple[str, int] | None = None
        while True:
            with self.engine.connect() as read:
                batch = _older_rows(read, tenant_id, target, after, batch_size)
            if not batch:
                break
            after = (batch[-1][0], batch[-1][1].key_version)
            updates = []
            for subject_id, row in batch:
                try:
                    updates.append((subject_id, row, self._rewrap(tenant_id, row)))
                except (InvalidUnwrap, KeyringError) as exc:
                    failed += 1
                    log.warning("KEK rotation: a data key of tenant %s failed to re-wrap: %s", tenant_id, exc)
            with write_transaction(self.engine) as conn:
                for subject_id, row, new in updates:
                    result = conn.execute(
                        update(subject_keys)
                        .where(
                            sk.tenant_id == tenant_id,
                            sk.subject_id == subject_id,
                            sk.key_version == row.key_version,
                            sk.wrapped_dek == row.blob,
                        )
                        .values(kek_version=new.kek_version, wrapped_dek=new.blob)
                    )
                    if result.rowcount:
                        rewrapped += 1
                    else:
                        skipped += 1
            done += len(batch)
            if on_progress is not None:
                on_progress(min(done, total), total)
        remaining = self._count_older(tenant_id, target)
        report = RotationReport(tenant_id, target, total, rewrapped, skipped, failed, remaining)
        counts = {"kek_version": target, "total": total, "rewrapped": rewrapped, "skipped": skipped, "failed": failed}
        self._audit(audit, tenant_id, actor, Action.KEY_REWRAPPED, {**counts, "remaining": remaining})
        return report

    def _audit(
        self, audit: AuditTrail | None, tenant_id: str, actor: str, action: Action, details: Mapping[str, object]
    ) -> None:
        if audit is not None:
            with write_transaction(self.engine) as conn:
                scope_to_tenant(conn, tenant_id)
                audit.record(conn, tenant_id=tenant_id, actor=actor, action=action, details=details)

    def _rewrap(self, tenant_id: str, row: _KeyRow) -> WrappedKey:
        wrapped = WrappedKey(row.kek_version, row.blob)
        if isinstance(self.provider, SupportsRewrap):
            return self.provider.rewrap(tenant_id, wrapped)
        return self.provider.wrap(tenant_id, self.provider.unwrap(tenant_id, wrapped))

    def _count_older(self, tenant_id: str, kek_version: int) -> int:
        with self.engine.connect() as read:
            query = select(func.count()).where(sk.tenant_id == tenant_id, sk.kek_version < kek_version)
            return int(read.execute(query).scalar_one())

    # --- erasure ------------------------------------------------------------------------------------

    def shred(self, tenant_id: str, subject_id: str, *, conn: Connection | None = None) -> ShredReport:
        """Crypto-shred a subject: record the erasure in the ledger (fsynced, outside the database), then
        delete every generation of the subject's data key and run the erasure hooks, and forget cached
        keys. Every ciphertext of the subject — in the database and in its backups — becomes unreadable.
        Other processes drop their cached copy within their cache TTL."""
        _check_id("tenant_id", tenant_id, 32)
        _check_id("subject_id", subject_id, 128)
        erased_at = self._clock()
        self.ledger.append(tenant_id, subject_id, erased_at=erased_at)
        self.cache.drop_subject(tenant_id, subject_id)
        subject = ErasedSubject(tenant_id, subject_id, erased_at, self.provider)
        if conn is None:
            with write_transaction(self.engine) as own:
                outcome = erase_subject_rows(own, subject, hooks=self.hooks)
        else:
            outcome = erase_subject_rows(conn, subject, hooks=self.hooks)
        self.cache.drop_subject(tenant_id, subject_id, outcome.wrapped_keys)
        return ShredReport(erased_at, outcome.keys_deleted, outcome.derived_rows_deleted)

    def replay_erasures(self) -> ReplayReport:
        """Re-apply the erasure ledger (after restoring a backup) and forget those subjects' cached keys."""
        report = self.ledger.replay(self.engine, hooks=self.hooks)
        for subject in report.erased:
            self.cache.drop_subject(subject.tenant_id, subject.subject_id)
        return report

    @property
    def hooks(self) -> Sequence[ErasureHook]:
        return ERASURE_HOOKS if self._hooks is None else self._hooks


# --- helpers ----------------------------------------------------------------------------------------


def _check_id(field: str, value: str, max_length: int) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInput(field, "must be a non-empty string")
    if len(value) > max_length:
        raise InvalidInput(field, f"at most {max_length} characters")


def _context(tenant_id: str, subject_id: str, table: str, column: str, row_id: str | int) -> CipherContext:
    _check_id("tenant_id", tenant_id, 32)
    _check_id("subject_id", subject_id, 128)
    _check_id("table", table, 128)
    _check_id("column", column, 128)
    row = str(row_id) if isinstance(row_id, int) else row_id
    _check_id("row_id", row, 256)
    return CipherContext(tenant_id, subject_id, table, column, row)


def _row(key_version: int, kek_version: int, blob: bytes) -> _KeyRow:
    return _KeyRow(int(key_version), int(kek_version), bytes(blob))


def _latest_row(conn: Connection, tenant_id: str, subject_id: str) -> _KeyRow | None:
    found = conn.execute(
        select(sk.key_version, sk.kek_version, sk.wrapped_dek)
        .where(sk.tenant_id == tenant_id, sk.subject_id == subject_id)
        .order_by(sk.key_version.desc())
        .limit(1)
    ).first()
    return None if found is None else _row(*found)


def _version_row(conn: Connection, tenant_id: str, subject_id: str, key_version: int) -> _KeyRow | None:
    found = conn.execute(
        select(sk.key_version, sk.kek_version, sk.wrapped_dek).where(
            sk.tenant_id == tenant_id, sk.subject_id == subject_id, sk.key_version == key_version
        )
    ).first()
    return None if found is None else _row(*found)


def _insert_or_get(
    conn: Connection, tenant_id: str, subject_id: str, key_version: int, wrapped: WrappedKey, created_at: datetime
) -> _KeyRow:
    values = {
        "tenant_id": tenant_id,
        "subject_id": subject_id,
        "key_version": key_version,
        "kek_version": wrapped.kek_version,
        "wrapped_dek": wrapped.blob,
        "created_at": created_at,
    }
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(subject_keys).values(values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(subject_keys).values(values).on_conflict_do_nothing())
    stored = _version_row(conn, tenant_id, subject_id, key_version)
    if stored is None:  # pragma: no cover - the row was just inserted or already there
        raise RuntimeError("data key row vanished right after it was written")
    return stored


def _older_rows(
    conn: Connection, tenant_id: str, kek_version: int, after: tuple[str, int] | None, limit: int
) -> list[tuple[str, _KeyRow]]:
    query = select(sk.subject_id, sk.key_version, sk.kek_version, sk.wrapped_dek).where(
        sk.tenant_id == tenant_id, sk.kek_version < kek_version
    )
    if after is not None:
        query = query.where(or_(sk.subject_id > after[0], and_(sk.subject_id == after[0], sk.key_version > after[1])))
    rows = conn.execute(query.order_by(sk.subject_id, sk.key_version).limit(limit))
    return [(str(subject_id), _row(kv, kek, blob)) for subject_id, kv, kek, blob in rows]
