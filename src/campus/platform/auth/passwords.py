"""argon2id password hashing, the password policy, and digests of short-lived codes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import LazyText, _

_hasher = PasswordHasher()
# Verified when a login names nobody, so that timing does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("campus-timing-equaliser")

MIN_LENGTH = 8
MAX_LENGTH = 128
MIN_CLASSES = 3
# Identifiers shorter than this are not searched for inside a password (too many false hits).
MIN_ACCOUNT_PART = 4

# Passwords that pass the length and character-class rules yet top every leaked-password list
# (including the Chinese ones: keyboard walks, "woaini", pinyin words, years).
COMMON_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "P@ssw0rd",
        "P@ssword1",
        "P@ssword123",
        "Passw0rd",
        "Passw0rd!",
        "Password1",
        "Password1!",
        "Password123",
        "Password@123",
        "Admin123",
        "Admin@123",
        "Admin@1234",
        "Admin@2024",
        "Admin@2025",
        "Admin123456",
        "Abc123456",
        "Abc@123456",
        "Abc@1234",
        "Abcd1234",
        "Abcd@1234",
        "Aa123456",
        "Aa123456789",
        "Aa@123456",
        "Qq123456",
        "Qwer1234",
        "Qwer@1234",
        "Qwerty123",
        "Qwerty@123",
        "Qweasd123",
        "Zxcv1234",
        "1qaz@WSX",
        "1qaz2wsx",
        "1qaz!QAZ",
        "1q2w3e4r",
        "1q2w3e4r5t",
        "Woaini1314",
        "Woaini520",
        "Woaini@1314",
        "Iloveyou1",
        "Welcome1",
        "Welcome@123",
        "Test@123",
        "Test1234",
        "Root@123",
        "Huawei@123",
        "Changeme1",
        "Campus@2026",
        "Campus@123",
        "Zhangsan123",
        "Wangwei123",
        "Xuexiao123",
        "Xuesheng123",
        "Laoshi123",
        "Student@123",
        "Teacher@123",
        "Abc!@#123",
        "A1b2c3d4",
        "Asdf1234",
        "Asd123456",
        "Zaq12wsx",
        "Q1w2e3r4",
        "Aa112233",
        "Aa147258",
    )
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """``verify_password`` in a worker thread: argon2 is meant to be slow (tens of ms) and
    releases the GIL, so the event loop keeps serving other requests meanwhile."""
    return await asyncio.to_thread(verify_password, password_hash, password)


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# ---------------------------------------------------------------- policy


def _classes(password: str) -> int:
    kinds = (
        any(c.isupper() for c in password),
        any(c.islower() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(kinds)


def policy_problem(password: str, account_names: Iterable[str] = ()) -> LazyText | None:
    """Why ``password`` may not be set (in Chinese), or None when it is acceptable.

    ``account_names`` are the person's login names (numbers, phone, e-mail); a password
    containing one of them (or an e-mail's local part) is refused.
    """
    if len(password) < MIN_LENGTH:
        return _("密码长度不能少于 {n} 个字符", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("密码长度不能超过 {n} 个字符", n=MAX_LENGTH)
    if _classes(password) < MIN_CLASSES:
        return _("密码须包含大写字母、小写字母、数字、符号中的至少三类")
    lowered = password.lower()
    for name in _account_parts(account_names):
        if name in lowered:
            return _("密码不能包含账号、手机号或邮箱")
    if lowered in COMMON_PASSWORDS:
        return _("该密码过于常见，容易被猜中，请换一个")
    return None


def _account_parts(names: Iterable[str]) -> set[str]:
    parts: set[str] = set()
    for raw in names:
        name = (raw or "").strip().lower()
        candidates = [name, name.split("@", 1)[0]] if "@" in name else [name]
        parts.update(c for c in candidates if len(c) >= MIN_ACCOUNT_PART)
    return parts


def check_policy(password: str, account_names: Iterable[str] = (), field: str = "password") -> None:
    """Raise ``InvalidInput`` naming ``field`` when the password breaks the policy."""
    reason = policy_problem(password, account_names)
    if reason is not None:
        raise InvalidInput(reason, errors=[FieldError(field, reason)])


_TEMPORARY_ALPHABET = string.ascii_letters + string.digits


def temporary_password() -> str:
    """A random 14-character password that satisfies the policy (given to a person once)."""
    while True:
        body = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
        candidate = f"{body[:6]}-{body[6:]}!"
        if _classes(candidate) == 4:
            return candidate


# ---------------------------------------------------------------- codes and tokens


def token_digest(token: str) -> str:
    """SHA-256 of a high-entropy random token (session cookies): enough, as it cannot be
    guessed; the digest is what storage keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


def code_digest(secret_key: str, purpose: str, person_id: int, code: str) -> str:
    """Keyed digest of a short code (6 digits, recovery codes): without the site's secret
    a stolen table cannot be brute-forced offline."""
    message = f"{purpose}:{person_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
