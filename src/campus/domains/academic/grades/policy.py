"""The grade policy (成绩规则) read back: one row of ``acad_grade_policy`` turned into the
``scales.Policy`` the GPA and the academic warning compute with, kept per process and rebuilt
when its version in the shared cache changes (a change bumps it after its commit, so the next
computation in any process uses it). Without a row, the defaults (``scales.DEFAULT_POLICY``).
Also the checks of a proposed policy, each problem naming its field."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.grades import scales
from campus.domains.academic.grades.models import GradePolicy
from campus.domains.academic.grades.schemas import (
    MAKEUP_LABELS,
    RETAKE_LABELS,
    BandIn,
    GpaTableIn,
    GpaTableOut,
    PolicyIn,
    PolicyOut,
)
from campus.kernel import runtime
from campus.kernel.errors import FieldError
from campus.kernel.i18n import LazyText, _

POLICY_ID = 1
VERSION_KEY = "acad:grade_policy:version"
MAX_WARNING_CREDITS = Decimal(1000)
PASS_FAIL_KEYS = ("failed", "passed")  # lowest first, like the bands


@dataclass(frozen=True)
class Loaded:
    version: bytes | None
    policy: scales.Policy
    stamp: dict[str, Any]  # who changed it last and when


_loaded: Loaded | None = None


async def current(session: AsyncSession) -> scales.Policy:
    """The policy in force (cached per process until its version changes)."""
    return (await _current(session)).policy


async def _current(session: AsyncSession) -> Loaded:
    global _loaded
    version = await runtime.current().cache.get(VERSION_KEY)
    if _loaded is None or _loaded.version != version:
        row = await session.get(GradePolicy, POLICY_ID)
        if row is None:
            _loaded = Loaded(version, scales.DEFAULT_POLICY, {})
        else:
            stamp = {"updated_by": row.updated_by, "updated_at": row.updated_at}
            _loaded = Loaded(version, of_row(row), stamp)
    return _loaded


async def policy_out(session: AsyncSession) -> PolicyOut:
    loaded = await _current(session)
    return out_of(loaded.policy, **loaded.stamp)


def out_of_row(row: GradePolicy) -> PolicyOut:
    """A policy just written (before its commit, when the cache still holds the old one)."""
    return out_of(of_row(row), updated_by=row.updated_by, updated_at=row.updated_at)


# ---------------------------------------------------------------- conversions


def _decimals(values: dict[str, Any]) -> dict[str, Decimal]:
    return {k: Decimal(str(v)) for k, v in values.items()}


def of_row(row: GradePolicy) -> scales.Policy:
    tables = {}
    for key, default in scales.DEFAULT_SCALES.items():
        stored = row.scales.get(key)
        tables[key] = default if stored is None else _table(default, stored)
    return scales.Policy(
        tables,
        pass_fail_counted=row.pass_fail_counted,
        makeup=row.makeup,
        retake=row.retake,
        warning_credits=row.warning_credits,
    )


def _table(default: scales.GpaScale, stored: dict[str, Any]) -> scales.GpaScale:
    return scales.GpaScale(
        default.key,
        default.name,
        default.maximum,
        tuple((Decimal(str(low)), Decimal(str(p))) for low, p in stored["bands"]),
        _decimals(stored["levels"]),
        _decimals(stored["pass_fail"]),
    )


def of_body(body: PolicyIn) -> scales.Policy:
    """The policy a checked body describes."""
    return scales.Policy(
        {
            key: scales.GpaScale(
                key,
                default.name,
                default.maximum,
                tuple((band.low, band.points) for band in body.scales[key].bands),
                {level: body.scales[key].levels[level] for level in scales.FIVE_LEVELS},
                {k: body.scales[key].pass_fail[k] for k in scales.PASS_FAIL},
            )
            for key, default in scales.DEFAULT_SCALES.items()
        },
        pass_fail_counted=body.pass_fail_counted,
        makeup=body.makeup,
        retake=body.retake,
        warning_credits=body.warning_credits,
    )


def stored_scales(policy: scales.Policy) -> dict[str, Any]:
    """The tables as the row's JSON (decimals as strings)."""
    return {
        key: {
            "bands": [[str(low), str(p)] for low, p in t.bands],
            "levels": {level: str(v) for level, v in t.levels.items()},
            "pass_fail": {k: str(v) for k, v in t.pass_fail.items()},
        }
        for key, t in policy.scales.items()
    }


def view(policy: scales.Policy) -> dict[str, Any]:
    """What the audit log keeps of a policy."""
    return {
        "scales": stored_scales(policy),
        "pass_fail_counted": policy.pass_fail_counted,
        "makeup": policy.makeup,
        "retake": policy.retake,
        "warning_credits": str(policy.warning_credits),
    }


def out_of(policy: scales.Policy, **stamp: Any) -> PolicyOut:
    return PolicyOut(
        scales={
            key: GpaTableOut(
                key=key,
                name=t.name,
                maximum=t.maximum,
                bands=[BandIn(low=low, points=p) for low, p in t.bands],
                levels=t.levels,
                pass_fail=t.pass_fail,
            )
            for key, t in policy.scales.items()
        },
        pass_fail_counted=policy.pass_fail_counted,
        makeup=policy.makeup,
        makeup_label=MAKEUP_LABELS[policy.makeup],
        retake=policy.retake,
        retake_label=RETAKE_LABELS[policy.retake],
        warning_credits=policy.warning_credits,
        **stamp,
    )


def differences(old: scales.Policy, new: scales.Policy) -> list[str]:
    """The parts of the policy that changed (``scales``, ``makeup``…), by value."""
    return [f.name for f in fields(scales.Policy) if getattr(old, f.name) != getattr(new, f.name)]


# ---------------------------------------------------------------- checks


def _places(value: Decimal, places: int) -> bool:
    return value == value.quantize(Decimal(1).scaleb(-places))


def _point_problems(value: Decimal, previous: Decimal | None, top: Decimal) -> LazyText | None:
    if not value.is_finite() or not Decimal(0) <= value <= top:
        return _("绩点须在 0 到 {top} 之间", top=top)
    if not _places(value, 2):
        return _("绩点最多两位小数")
    if previous is not None and value < previous:
        return _("绩点不能低于上一档（{p}）", p=previous)
    return None


def _band_problems(field: str, bands: list[BandIn], top: Decimal) -> list[FieldError]:
    errors = []
    for i, band in enumerate(bands):
        low, at = band.low, f"{field}.bands.{i}"
        if i == 0 and low != 0:
            errors.append(FieldError(f"{at}.low", _("第一档的分数下限须为 0")))
        elif not low.is_finite() or not Decimal(0) <= low <= Decimal(100):
            errors.append(FieldError(f"{at}.low", _("分数下限须在 0 到 100 之间")))
        elif not _places(low, 1):
            errors.append(FieldError(f"{at}.low", _("分数下限最多一位小数")))
        elif i and low <= bands[i - 1].low:
            errors.append(
                FieldError(f"{at}.low", _("分数下限须大于上一档（{p}）", p=bands[i - 1].low))
            )
        previous = bands[i - 1].points if i else None
        if reason := _point_problems(band.points, previous, top):
            errors.append(FieldError(f"{at}.points", reason))
    return errors


def _ladder_problems(
    field: str, values: dict[str, Decimal], keys: tuple[str, ...], top: Decimal
) -> list[FieldError]:
    """Points of levels named lowest first: each present, within the scale, non-decreasing."""
    errors = []
    previous: Decimal | None = None
    for key in keys:
        value = values.get(key)
        if value is None:
            errors.append(FieldError(f"{field}.{key}", _("请填写绩点")))
            continue
        if reason := _point_problems(value, previous, top):
            errors.append(FieldError(f"{field}.{key}", reason))
        previous = value
    return errors


def problems(body: PolicyIn) -> list[FieldError]:
    """Every problem of a proposed policy, each naming its field (``scales.4.0.bands.2.low``,
    ``scales.5.0.levels.good``, ``warning_credits``…)."""
    errors: list[FieldError] = []
    for key in sorted(set(body.scales) - set(scales.GPA_KEYS)):
        errors.append(FieldError(f"scales.{key}", _("没有“{k}”这种绩点制", k=key)))
    for key, default in scales.DEFAULT_SCALES.items():
        table: GpaTableIn | None = body.scales.get(key)
        field = f"scales.{key}"
        if table is None:
            errors.append(FieldError(field, _("请设置 {name} 的绩点", name=default.name)))
            continue
        errors += _band_problems(field, table.bands, default.maximum)
        levels = tuple(reversed(scales.FIVE_LEVELS))  # 不及格 … 优
        errors += _ladder_problems(f"{field}.levels", table.levels, levels, default.maximum)
        errors += _ladder_problems(
            f"{field}.pass_fail", table.pass_fail, PASS_FAIL_KEYS, default.maximum
        )
    credits = body.warning_credits
    if not credits.is_finite() or not Decimal(0) < credits <= MAX_WARNING_CREDITS:
        errors.append(
            FieldError("warning_credits", _("预警学分须大于 0、不超过 {n}", n=MAX_WARNING_CREDITS))
        )
    elif not _places(credits, 1):
        errors.append(FieldError("warning_credits", _("预警学分最多一位小数")))
    return errors
