"""User accounts and API tokens in the incident database; passwords hashed with Argon2id."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from console.account_store import ApiTokenRow, AuditRow, UserRow
from console.errors import AccountError
from console.roles import Principal, Role, Via, parse_roles

MIN_PASSWORD_LENGTH = 8
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as much as a wrong password.
_DUMMY_HASH = _HASHER.hash("golden-time-no-such-user")


@dataclass(frozen=True)
class Account:
    name: str
    roles: frozenset[Role]
    unit_id: str | None
    disabled: bool

    def principal(self, *, via: Via, csrf_token: str | None = None) -> Principal:
        return Principal(
            name=self.name, roles=self.roles, via=via, unit_id=self.unit_id, csrf_token=csrf_token
        )


def _account(row: UserRow) -> Account:
    return Account(
        name=row.name, roles=parse_roles(row.roles), unit_id=row.unit_id, disabled=row.disabled
    )


def check_name(name: str) -> str:
    name = name.strip().lower()
    if not 2 <= len(name) <= 80 or not set(name) <= _NAME_CHARS:
        raise AccountError(
            f"user name {name!r} must be 2-80 characters of a-z, 0-9, '.', '_' or '-'"
        )
    return name


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Create, verify and look up users and tokens."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        hasher: PasswordHasher | None = None,
        audit_sessions: sessionmaker[Session] | None = None,
    ) -> None:
        """``hasher``: how new passwords are hashed (argon2id with the library's defaults unless
        given; tests pass a cheap one). Verification reads the parameters from each stored hash.

        ``audit_sessions``: where audit rows are written, if not ``sessions``: the console gives
        an engine that gives up quickly on a locked database, so that an outage does not hold
        a thread per request for the whole lock wait (the entry goes to the log instead).
        """
        self._sessions = sessions
        self._hasher = _HASHER if hasher is None else hasher
        self._audit_sessions = sessions if audit_sessions is None else audit_sessions

    def add_user(
        self,
        name: str,
        *,
        roles: Iterable[Role | str],
        password: str,
        now: datetime,
        unit_id: str | None = None,
        replace: bool = False,
    ) -> Account:
        name = check_name(name)
        try:
            role_set = parse_roles(",".join(str(r) for r in roles))
        except ValueError as err:
            raise AccountError(f"user {name!r}: {err}") from err
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(
                f"password of {name!r} is too short ({len(password)} < {MIN_PASSWORD_LENGTH})"
            )
        if Role.CREW in role_set and role_set == {Role.CREW} and not unit_id:
            raise AccountError(f"crew user {name!r} needs --unit (the unit they ride)")
        with self._sessions.begin() as session:
            row = session.get(UserRow, name)
            if row is not None and not replace:
                raise AccountError(f"user {name!r} already exists")
            if row is None:
                row = UserRow(name=name, created_at=now)
                session.add(row)
            row.roles = ",".join(sorted(r.value for r in role_set))
            row.password_hash = self._hasher.hash(password)
            row.unit_id = unit_id
            row.disabled = False
            return _account(row)

    def get(self, name: str) -> Account | None:
        with self._sessions() as session:
            row = session.get(UserRow, name)
            return None if row is None else _account(row)

    def all(self) -> list[Account]:
        with self._sessions() as session:
            return [_account(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]

    def verify_password(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is right and the account enabled; else None."""
        with self._sessions() as session:
            row = session.get(UserRow, name.strip().lower())
            stored = row.password_hash if row is not None else _DUMMY_HASH
            try:
                self._hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return None
            if row is None or row.disabled:
                return None
            return _account(row)

    def issue_token(self, name: str, *, now: datetime) -> str:
        """A new bearer token for ``name``; shown once, stored only as a digest."""
        token = f"gt_{secrets.token_urlsafe(32)}"
        with self._sessions.begin() as session:
            if session.get(UserRow, name) is None:
                raise AccountError(f"no user {name!r}; add it first with `goldentime user add`")
            session.add(ApiTokenRow(digest=token_digest(token), user_name=name, created_at=now))
        return token

    def revoke_tokens(self, name: str) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(ApiTokenRow).where(ApiTokenRow.user_name == name))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def by_token(self, token: str) -> Account | None:
        with self._sessions() as session:
            row = session.get(ApiTokenRow, token_digest(token))
            if row is None:
                return None
            user = session.get(UserRow, row.user_name)
            return None if user is None or user.disabled else _account(user)

    def audit(
        self,
        *,
        at: datetime,
        principal: Principal,
        method: str,
        path: str,
        status: int,
        command_id: str | None,
    ) -> None:
        with self._audit_sessions.begin() as session:
            session.add(
                AuditRow(
                    at=at,
                    user_name=principal.name,
                    via=principal.via,
                    method=method,
                    path=path[:300],
                    status=status,
                    command_id=command_id,
                )
            )

    def audit_log(self, *, limit: int = 100) -> list[AuditRow]:
        with self._sessions() as session:
            query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
            return list(session.scalars(query))


DEMO_USERS: tuple[tuple[str, frozenset[Role]], ...] = (
    ("dispatcher", frozenset({Role.DISPATCHER})),
    ("supervisor", frozenset({Role.SUPERVISOR})),
    ("admin", frozenset({Role.ADMIN})),
)
DEMO_PASSWORD = "goldentime-demo"  # noqa: S105 - demo mode only, printed in the docs;; documented in docs/console.md


def seed_demo_users(accounts: Accounts, *, now: datetime) -> None:
    """Demo mode: users ``dispatcher``, ``supervisor``, ``admin`` with :data:`DEMO_PASSWORD`."""
    for name, roles in DEMO_USERS:
        if accounts.get(name) is None:
            # AccountError / IntegrityError: another console process seeded it just now
            with contextlib.suppress(AccountError, IntegrityError):
                accounts.add_user(name, roles=roles, password=DEMO_PASSWORD, now=now)
