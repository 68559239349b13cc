"""The upstream of bench/gateway.py: the smallest useful JSON answer, served by uvicorn like
Campus, so that what the gateway adds is what is measured."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BODY = {"status": "ok", "items": [{"id": n, "title": f"item {n}"} for n in range(5)]}


async def answer(request: Request) -> JSONResponse:
    return JSONResponse(BODY)


app = Starlette(routes=[Route("/{path:path}", answer)])
