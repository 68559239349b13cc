"""One way to page lists across the API: ``?page=&page_size=`` in, ``Page[T]`` out.

Routes take ``PageParamsDep`` (bad values become the kernel's Chinese 422 on the field), queries
build a ``select`` and call ``paginate``, and the rows are turned into schemas with ``Page.into``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
# Deeper pages mean huge offsets; nobody reads page 100 000 of anything.
MAX_PAGE = 100_000

T = TypeVar("T")
P = TypeVar("P", bound="Page[Any]")


class PageParams(BaseModel):
    """Which page of a list to show, and how long pages are."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE, description="页码，从 1 开始")
    page_size: int = Field(
        default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="每页条数（1–200）"
    )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def pages_for(total: int, page_size: int) -> int:
    """How many pages ``total`` items fill; an empty list still has one (empty) page."""
    return max(1, -(-total // page_size))


class Page(BaseModel, Generic[T]):
    """One page of a list, with what a pager needs to show the others."""

    items: list[T]
    total: int = Field(description="符合条件的总条数")
    page: int = Field(description="页码，从 1 开始")
    page_size: int = Field(description="每页条数")
    pages: int = Field(description="总页数（至少 1）")

    @classmethod
    def of(cls, items: Sequence[T], total: int, params: PageParams, **extra: Any) -> Self:
        return cls(
            items=list(items),
            total=total,
            page=params.page,
            page_size=params.page_size,
            pages=pages_for(total, params.page_size),
            **extra,
        )

    def into(self, model: type[P], convert: Callable[[T], Any], **extra: Any) -> P:
        """The same page as ``model`` (e.g. ``Page[PersonOut]``), each item passed through
        ``convert``; ``extra`` fills the fields a subclass adds."""
        return model(
            items=[convert(item) for item in self.items],
            total=self.total,
            page=self.page,
            page_size=self.page_size,
            pages=self.pages,
            **extra,
        )


async def paginate(
    session: AsyncSession, stmt: Select[Any], page: int, page_size: int
) -> Page[Any]:
    """One page of ``stmt``'s results and how many there are in all.

    Items are entities when ``stmt`` selects one thing (``select(Person)``), rows otherwise.
    The total counts ``stmt`` as a subquery without its ORDER BY, so joins, filters, DISTINCT
    and GROUP BY count as they list; a page past the end costs no second query."""
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = int(await session.scalar(counted) or 0)
    params = PageParams(page=page, page_size=page_size)
    items: Sequence[Any] = []
    if params.offset < total:
        result = await session.execute(stmt.offset(params.offset).limit(page_size))
        items = result.scalars().all() if len(stmt.column_descriptions) == 1 else result.all()
    return Page[Any].of(items, total, params)


def page_params(params: Annotated[PageParams, Query()]) -> PageParams:
    return params


# ``page`` (≥ 1) and ``page_size`` (1–200, default 20) from the query string.
PageParamsDep = Annotated[PageParams, Depends(page_params)]
