"""The HTTP relay: live MJPEG per camera, snapshots, health and stored event media.

Endpoints: ``GET /cameras`` (registry + health), ``GET /cameras/{id}/stream.mjpg``
(``multipart/x-mixed-replace``; any number of viewers; while the source reconnects the last
frame is repeated so viewers stay connected), ``GET /cameras/{id}/snapshot.jpg``,
``GET /cameras/{id}/health``, ``GET /media/{camera}/{file}`` (event snapshots and clips),
``GET /healthz``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from goldentime.contracts.video import CameraHealth
from video_relay.live import FrameHub
from video_relay.media import safe_name
from video_relay.registry import Camera

BOUNDARY = "goldentimeframe"


async def _mjpeg_frames(
    hub: FrameHub, camera_id: str, request: Request, *, fps: float
) -> AsyncIterator[bytes]:
    """The camera's frames as multipart JPEG parts, until the client goes or the camera stops."""
    while not await request.is_disconnected():
        frame = hub.get(camera_id)
        if frame is None:
            return
        yield (
            (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(frame.jpeg)}\r\n"
                f"X-Camera-Status: {frame.status}\r\n\r\n"
            ).encode()
            + frame.jpeg
            + b"\r\n"
        )
        await asyncio.sleep(1.0 / fps)


def create_app(
    *,
    hub: FrameHub,
    cameras: list[Camera],
    health: Callable[[str], CameraHealth | None],
    media_root: Path | None = None,
    stream_fps: float = 10.0,
) -> FastAPI:
    app = FastAPI(title="Golden Time video relay")
    by_id = {c.id: c for c in cameras}

    def _camera(camera_id: str) -> Camera:
        camera = by_id.get(camera_id)
        if camera is None or hub.get(camera_id) is None:
            raise HTTPException(status_code=404, detail=f"no streaming camera {camera_id!r}")
        return camera

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"ok": True, "cameras": len(hub.cameras())}

    @app.get("/cameras")
    def list_cameras() -> list[dict[str, object]]:
        rows = []
        for camera_id in hub.cameras():
            cam = by_id[camera_id]
            state = health(camera_id)
            rows.append(
                {
                    **cam.model_dump(mode="json", exclude={"source", "zones"}),
                    "stream_url": f"/cameras/{camera_id}/stream.mjpg",
                    "snapshot_url": f"/cameras/{camera_id}/snapshot.jpg",
                    "health": state.model_dump(mode="json") if state else None,
                }
            )
        return rows

    @app.get("/cameras/{camera_id}/health")
    def camera_health(camera_id: str) -> dict[str, object]:
        _camera(camera_id)
        state = health(camera_id)
        if state is None:
            raise HTTPException(status_code=404, detail="no health yet")
        return state.model_dump(mode="json")

    @app.get("/cameras/{camera_id}/snapshot.jpg")
    def snapshot(camera_id: str) -> Response:
        _camera(camera_id)
        frame = hub.get(camera_id)
        assert frame is not None
        return Response(
            frame.jpeg,
            media_type="image/jpeg",
            headers={"Cache-Control": "no-store", "X-Camera-Status": frame.status},
        )

    @app.get("/cameras/{camera_id}/stream.mjpg")
    async def stream(camera_id: str, request: Request) -> StreamingResponse:
        _camera(camera_id)
        return StreamingResponse(
            _mjpeg_frames(hub, camera_id, request, fps=stream_fps),
            media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/media/{camera_id}/{name}")
    def media(camera_id: str, name: str) -> FileResponse:
        if media_root is None:
            raise HTTPException(status_code=404, detail="no media store")
        path = media_root / safe_name(camera_id) / safe_name(name)
        if not path.is_file():
            raise HTTPException(status_code=404, detail=f"no media {camera_id}/{name}")
        return FileResponse(path)

    return app
