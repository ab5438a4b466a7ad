"""HTTP batch ingest: ``POST /api/sensors/readings`` as a FastAPI router factory.

The body is a JSON array of readings (or ``{"readings": [...]}``). Every valid reading is
published on ``sensor.readings`` and acknowledged by the broker before the answer:

* all valid: 202 ``{"accepted": n, "ids": [...]}``;
* some or all invalid: 422 ``{"detail": {"accepted": n, "ids": [...], "errors": [{"index",
  "reason", "field"}]}}`` (the valid ones are published all the same);
* the broker did not acknowledge: 503 (retry the batch: reading ids make it idempotent).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sensors.errors import PublishError
from sensors.ingest import BatchResult, Ingestor

MAX_BATCH = 5000
PATH = "/api/sensors/readings"


def _items(body: bytes) -> list[Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"body is not JSON: {err}"
        ) from err
    if isinstance(data, dict) and set(data) == {"readings"}:
        data = data["readings"]
    if not isinstance(data, list):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail='body must be a JSON array of readings or {"readings": [...]}',
        )
    if len(data) > MAX_BATCH:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"{len(data)} readings in one batch; at most {MAX_BATCH}",
        )
    return data


def readings_router(*, ingestor: Ingestor) -> APIRouter:
    """A router with ``POST /api/sensors/readings`` publishing through ``ingestor``."""
    router = APIRouter(tags=["sensors"])

    @router.post(PATH, status_code=status.HTTP_202_ACCEPTED)
    async def post_readings(request: Request) -> JSONResponse:
        items = _items(await request.body())
        try:
            result: BatchResult = await run_in_threadpool(ingestor.ingest_batch, items)
        except PublishError as err:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, detail=f"{err}; retry the batch"
            ) from err
        body = {"accepted": len(result.accepted_ids), "ids": result.accepted_ids}
        if not result.rejected:
            return JSONResponse(body, status_code=status.HTTP_202_ACCEPTED)
        errors = [{"index": r.index, "reason": r.reason, "field": r.field} for r in result.rejected]
        return JSONResponse(
            {"detail": body | {"errors": errors}},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    return router
