"""The profile's top entries: self time by function and by file, from a pyinstrument frame tree."""

from __future__ import annotations

from typing import Any


def top_entries(root: Any, n: int = 12) -> dict[str, list[dict[str, Any]]]:
    """``{"functions": [...], "files": [...]}``, each entry ``{"where", "self_s", "share"}`` (share of
    the profile's wall time), highest first. pyinstrument keeps a frame's own time in synthetic
    ``[self]`` children, summed as the frame's ``total_self_time``."""
    total = root.time or 1.0
    functions: dict[tuple[str, str], float] = {}
    files: dict[str, float] = {}
    todo = [root]
    while todo:
        frame = todo.pop()
        todo.extend(frame.children)
        if frame.is_synthetic or not frame.total_self_time:
            continue
        where, own = frame.file_path_short or "?", frame.total_self_time
        functions[(where, frame.function)] = functions.get((where, frame.function), 0.0) + own
        files[where] = files.get(where, 0.0) + own

    def top(items: dict[Any, float], name: Any) -> list[dict[str, Any]]:
        ranked = sorted(items.items(), key=lambda kv: kv[1], reverse=True)[:n]
        return [{"where": name(k), "self_s": v, "share": v / total} for k, v in ranked]

    return {"functions": top(functions, lambda k: f"{k[1]} ({k[0]})"), "files": top(files, str)}
