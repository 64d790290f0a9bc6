"""The results as a markdown table (with the targets, met or missed) and a PNG chart."""
# ruff: noqa: E501  (markdown table rows read better on one line each)

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.stats import median

ORDERS = ("PRICE", "ESTIMATED_COST")
TARGET_TEXT = {
    "search_vs_proxy": "Station search CPU/request vs proxy floor (Starlette over an upstream JSON service)",
    "search_vs_peer": "Station search CPU/request vs GraphQL Yoga peer (Node)",
    "search_vs_web": "Station search CPU/request vs web floor",
    "search_vs_graphql": "Station search CPU/request vs graphql-core floor",
    "overhead": "Overhead over upstream, p50 at concurrency 1",
    "fan_out": "Fan-out p50, 16 operators vs 1",
    "radius_p99": "Radius search p99 at 100k stations",
    "radius_p99_50km": "Radius search p99 at 100k stations, 50 km",
    "radius_p99_500k": "Radius search p99 at 500k stations",
    "ordered_p99": "Search ordered by price / estimated cost, p99 at 100k stations",
    "memory": "Memory per catalogued connector",
    "field_cost": "CPU per resolved field (100 stations, every field)",
    "tcec_call_cpu": "CPU per T/CEC upstream call (AES + HMAC + JSON + aiohttp)",
}
LABELS = {
    "web": "web floor",
    "graphql": "graphql-core floor",
    "proxy": "proxy floor",
    "peer": "Yoga peer",
    "gateway": "gateway",
}


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _range(values: list[float], digits: int = 2) -> str:
    if not values:
        return "–"
    return f"{_f(median(values), digits)} ({_f(min(values), digits)}–{_f(max(values), digits)})"


def worst_ratio(rows: list[dict[str, Any]], base: str) -> tuple[float, dict[str, Any]] | None:
    """The highest median (over rounds) CPU ratio of the gateway to ``base``, and its row."""
    found = [(median(r["vs"][base]["cpu"]), r) for r in rows if base in r.get("vs", {})]
    present = [(v, r) for v, r in found if v is not None]
    return max(present, key=lambda vr: vr[0]) if present else None


def tcec_call_ms(results: dict[str, Any]) -> float | None:
    """CPU per direct T/CEC call (the overhead scenario's direct calls), in ms."""
    o = results.get("overhead")
    cpu_us = o["direct"].get("cpu_us") if o else None
    return None if cpu_us is None else cpu_us / 1000


def verdicts(results: dict[str, Any]) -> list[str]:
    """``PASS``/``MISS`` lines, one per target (what ``make bench`` prints last)."""
    return [
        f"{'PASS' if met else 'MISS'}  {what}: {measured} (goal {goal})"
        for what, goal, measured, met in targets(results)
    ]


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """``(what, goal, measured, met)`` for every target of the issue."""
    out: list[tuple[str, str, str, bool | None]] = []
    rows = results.get("search") or []
    for key, base, goal, limit, strict in (
        ("search_vs_proxy", "proxy", "≤ 1.5×", 1.5, False),
        ("search_vs_peer", "peer", "< 1×", 1.0, True),
        ("search_vs_web", "web", "≤ 1.5×", 1.5, False),
        ("search_vs_graphql", "graphql", "≤ 0.33× (3× cheaper)", 1 / 3, False),
    ):
        worst = worst_ratio(rows, base)
        if worst is None:
            continue
        value, row = worst
        where = f"{row['stations']} within {row['radius_km']:g} km, c={row['concurrency']}"
        met = value < limit if strict else value <= limit
        out.append((key, goal, f"{value:.2f}× (worst of {len(rows)}: {where})", met))
    if results.get("overhead"):
        o = results["overhead"]["overhead_ms"]
        out.append(("overhead", "≤ 2 ms", f"{_f(o, 2)} ms", o is not None and o <= 2.0))
    if results.get("fan_out"):
        last = results["fan_out"]["rows"][-1]
        v = last["vs_one"]
        out.append(
            ("fan_out", "≤ 1.2×", f"{_f(v, 2)}× ({last['operators']} operators)", v is not None and v <= 1.2)
        )
    cat = results.get("catalogue") or {}
    radius = {r["stations"]: r for r in cat.get("radius", [])}
    if 100_000 in radius:
        p99 = radius[100_000]["p99_ms"]
        out.append(("radius_p99", "≤ 2 ms", f"{_f(p99, 3)} ms", p99 <= 2.0))
        if "r50" in radius[100_000]:
            p99 = radius[100_000]["r50"]["p99_ms"]
            out.append(("radius_p99_50km", "≤ 2 ms", f"{_f(p99, 3)} ms", p99 <= 2.0))
    if 500_000 in radius:
        worst = max(radius[500_000]["p99_ms"], radius[500_000].get("r50", {}).get("p99_ms", 0.0))
        out.append(("radius_p99_500k", "≤ 5 ms", f"{_f(worst, 3)} ms (worst of 5 and 50 km)", worst <= 5.0))
    ordered = {r["stations"]: r for r in cat.get("ordered", [])}
    if 100_000 in ordered:
        worst = max(ordered[100_000][o]["p99_ms"] for o in ORDERS)
        out.append(("ordered_p99", "≤ 2 ms", f"{_f(worst, 3)} ms (worst of {len(ORDERS)})", worst <= 2.0))
    mem = [r["bytes_per_connector"] for r in cat.get("radius", [])]
    if cat.get("sync") and cat["sync"].get("bytes_per_connector"):
        mem.append(cat["sync"]["bytes_per_connector"])
    if mem:
        worst = max(mem)
        out.append(("memory", "≤ 1024 B", f"{worst:.0f} B (worst of {len(mem)})", worst <= 1024))
    if results.get("fields"):
        v = results["fields"]["us_per_field"]
        out.append(("field_cost", "≤ 1 µs", f"{_f(v, 2)} µs", v is not None and v <= 1.0))
    call = tcec_call_ms(results)
    if call is not None:
        out.append(("tcec_call_cpu", "≤ 0.3 ms", f"{call:.3f} ms", call <= 0.3))
    return [(TARGET_TEXT[k], goal, measured, met) for k, goal, measured, met in out]


def _entry(entries: list[dict[str, Any]], i: int) -> str:
    """``where | share`` cells of a profile entry (empty past the end)."""
    if i >= len(entries):
        return " | "
    return f"`{entries[i]['where']}` | {entries[i]['share']:.1%}"


def _stack(results: dict[str, Any]) -> str:
    return (results.get("baselines") or {}).get("server_stack") or results["machine"].get("stack", "?")


def _load(m: dict[str, Any]) -> str:
    if "load_start" not in m:
        return ""
    return (
        f" Load average (1 min) {m['load_start']:.2f} at the start, {m['load_end']:.2f} at the end"
        f"{' — the machine was shared, figures taken under load' if max(m['load_start'], m['load_end']) > 0.5 else ''}."
    )


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run {results['started']} on {m['cpu']} ({m['cores']} cores; server pinned to core {m['server_core']},"
        f" load generator and simulators to core {m['client_core']}), Python {m['python']}; "
        f"{results['rounds']} alternating rounds of {results['window_s']} s per window; "
        f"{results['checked']:,} responses checked, **{results['failed']} failed**; "
        f"took {results['elapsed_s']:.0f} s.{_load(m)}",
        "",
        "| Target | Goal | Measured | Met |",
        "| --- | --- | --- | --- |",
    ]
    for what, goal, measured, met in targets(results):
        lines.append(f"| {what} | {goal} | {measured} | {'yes' if met else '**no**'} |")
    b = results.get("baselines") or {}
    if b:
        peer = f"Node {b['node']}" if b.get("node") else f"left out: {b.get('peer_missing')}"
        lines += [
            "",
            f"Server stack of the gateway and its floors: {b['server_stack']}. Proxy floor's upstream and the Yoga "
            f"peer ({peer}) serve a snapshot of the gateway's {b['snapshot_stations']} stations.",
        ]
    rows = results.get("search") or []
    if rows:
        lines += [
            "",
            "Station search (connectors, status, price; statuses cached). CPU is each server process's "
            "utime+stime from `/proc` per request (the floors share the gateway's process; the peer is its own); "
            "ratios are the gateway's over the baseline's, per round, median (min–max).",
            "",
            "| Stations | Radius km | Conc. | Target | req/s | p50 ms | p99 ms | CPU µs/req | Same answer | Failed |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in rows:
            for name, s in r["targets"].items():
                lines.append(
                    f"| {r['stations']} | {r['radius_km']:g} | {r['concurrency']} | {LABELS.get(name, name)} | "
                    f"{_f(s['throughput'], 0)} | {_f(s['p50_ms'], 2)} | {_f(s['p99_ms'], 2)} | {_f(s['cpu_us'], 0)} | "
                    f"{'yes' if r['same_answer'][name] else '**no**'} | {s['failures']}/{s['requests']} |"
                )
        bases = [b for b in ("proxy", "peer", "web", "graphql") if any(b in r["vs"] for r in rows)]
        lines += [
            "",
            "Gateway over each baseline (CPU per request and p50 latency):",
            "",
            "| Stations | Radius km | Conc. | "
            + " | ".join(f"CPU × {LABELS[b]} | p50 × {LABELS[b]}" for b in bases)
            + " |",
            "| --- | --- | --- | " + " | ".join("--- | ---" for _ in bases) + " |",
        ]
        for r in rows:
            cells = []
            for b in bases:
                v = r["vs"].get(b) or {"cpu": [], "p50": []}
                cells += [_range(v["cpu"]), _range(v["p50"])]
            lines.append(
                f"| {r['stations']} | {r['radius_km']:g} | {r['concurrency']} | " + " | ".join(cells) + " |"
            )
        told = set()
        for r in rows:
            for name, why in (r.get("differences") or {}).items():
                if (r["stations"], r["radius_km"], name) not in told:  # once per query, not per concurrency
                    told.add((r["stations"], r["radius_km"], name))
                    label = LABELS.get(name, name)
                    lines += ["", f"{label} answered differently ({r['stations']} stations): {why}"]
    top = results.get("profile_top")
    if top:
        q = results.get("profile_query") or {}
        lines += [
            "",
            f"Profile of the gateway ({q.get('stations', '?')} stations within {q.get('radius_km', '?')} km at c="
            f"{q.get('concurrency', '?')}; pyinstrument, self time as a share of the profile; whole tree in "
            "`bench/results/profile.txt`):",
            "",
            "| Function | Self | File | Self |",
            "| --- | --- | --- | --- |",
        ]
        functions, files = top["functions"][:10], top["files"][:10]
        for i in range(max(len(functions), len(files))):
            lines.append(f"| {_entry(functions, i)} | {_entry(files, i)} |")
    f = results.get("fields")
    if f:
        lines += [
            "",
            f"Field cost: {f['fields']['full']:,} fields for {f['stations']} stations with every field: "
            f"{_f(f['full']['cpu_us'], 0)} µs/request vs {_f(f['bare']['cpu_us'], 0)} µs for `totalCount` only → "
            f"**{_range(f['us_per_field_rounds'], 3)} µs per field**; failed "
            f"{f['full']['failures'] + f['bare']['failures']}/{f['full']['requests'] + f['bare']['requests']}.",
        ]
    o = results.get("overhead")
    if o:
        lines += [
            "",
            f"Overhead over upstream (simulators at {o['latency_ms']:g} ms, concurrency 1): direct T/CEC call p50 "
            f"{_f(o['direct']['p50_ms'], 2)} ms (p99 {_f(o['direct']['p99_ms'], 2)}), gateway one-station live search p50 "
            f"{_f(o['gateway']['p50_ms'], 2)} ms (p99 {_f(o['gateway']['p99_ms'], 2)}) → **overhead "
            f"{_range(o['overhead_ms_rounds'])} ms**; failed {o['gateway']['failures']}/{o['gateway']['requests']} "
            f"(direct {o['direct']['failures']}/{o['direct']['requests']}). CPU per direct T/CEC call (the bench's own "
            f"process, {_stack(results)}): **{_f(tcec_call_ms(results), 3)} ms**.",
        ]
    fo = results.get("fan_out")
    if fo:
        lines += [
            "",
            f"Fan-out ({fo['stations_per_operator']} stations per operator, each operator at {fo['latency_ms']:g} ms):",
            "",
            "| Operators | p50 ms | p99 ms | CPU µs/req | Simulators' CPU µs/req | p50 × 1 operator | Failed |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in fo["rows"]:
            lines.append(
                f"| {r['operators']} | {_f(r['p50_ms'], 2)} | {_f(r['p99_ms'], 2)} | {_f(r['cpu_us'], 0)} | "
                f"{_f(r.get('sims_cpu_us'), 0)} | {_range(r['vs_one_rounds'])} | {r['failures']}/{r['requests']} |"
            )
        first, last = fo["rows"][0], fo["rows"][-1]
        if last.get("sims_cpu_us") is not None and first.get("sims_cpu_us") is not None:
            extra = (last["sims_cpu_us"] - first["sims_cpu_us"]) / 1000
            lines += [
                "",
                f"The simulators run in one process on the load generator's core: at {last['operators']} "
                f"operators they spend {_f(last['sims_cpu_us'] / 1000, 2)} ms of CPU per request "
                f"({_f(extra, 2)} ms more than for one), answering one after another — up to that much of "
                f"the {last['operators']}-operator p50 is the simulators' queue, not the gateway's.",
            ]
    st = results.get("stacks")
    if st and st.get("rows"):
        first = st["stacks"][0]
        lines += [
            "",
            f"Server stacks (the gateway alone on each, {st['rows'][0]['stations']} stations within "
            f"{st['rows'][0]['radius_km']:g} km): cheapest **{st['cheapest']}**; `chargegate serve` runs on "
            f"**{st['default']}** (uvicorn; Granian is measured, not a dependency). CPU per request is the "
            "comparison: on a core shared with other work, req/s and latency favour the stack with more threads.",
            "",
            f"| Stack | Conc. | req/s | p50 ms | p99 ms | CPU µs/req | CPU × {first} | p50 × {first} | Failed |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in st["rows"]:
            for name, s in r["stacks"].items():
                v = r["vs_first"][name]
                lines.append(
                    f"| {name} | {r['concurrency']} | {_f(s['throughput'], 0)} | {_f(s['p50_ms'], 2)} | {_f(s['p99_ms'], 2)}"
                    f" | {_f(s['cpu_us'], 0)} | {_range(v['cpu'])} | {_range(v['p50'])} | {s['failures']}/{s['requests']} |"
                )
    cat = results.get("catalogue") or {}
    if cat.get("radius"):
        lines += [
            "",
            "Catalogue scale (synthetic stations over 220 × 230 km, radius queries at seeded random points: every hit found and ordered nearest first, the page built — 20 within 5 km, 50 within 50 km):",
            "",
            "| Stations | Connectors | 5 km: mean hits | p50 ms | p99 ms | 50 km: mean hits | p50 ms | p99 ms | Bytes per connector | Build s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in cat["radius"]:
            far = r.get("r50") or {}
            lines.append(
                f"| {r['stations']:,} | {r['connectors']:,} | {r['mean_hits']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f}"
                f" | {_f(far.get('mean_hits'), 0)} | {_f(far.get('p50_ms'), 3)} | {_f(far.get('p99_ms'), 3)}"
                f" | {r['bytes_per_connector']:.0f} | {r['build_s']:.1f} |"
            )
    if cat.get("ordered"):
        lines += [
            "",
            "Search ordered by price and by estimated cost (30 kWh): radius search, tariffs from the in-memory "
            "cache (warm), ranking; 5 km queries at seeded random points:",
            "",
            "| Stations | Mean hits | PRICE p50 ms | PRICE p99 ms | PRICE CPU ms | ESTIMATED_COST p50 ms | ESTIMATED_COST p99 ms | ESTIMATED_COST CPU ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in cat["ordered"]:
            p, e = r["PRICE"], r["ESTIMATED_COST"]
            lines.append(
                f"| {r['stations']:,} | {p['mean_hits']:.0f} | {p['p50_ms']:.3f} | {p['p99_ms']:.3f} | {_f(p.get('cpu_ms'), 3)}"
                f" | {e['p50_ms']:.3f} | {e['p99_ms']:.3f} | {_f(e.get('cpu_ms'), 3)} |"
            )
    s = cat.get("sync")
    if s:
        lines += [
            "",
            f"T/CEC sync: {s['stations']:,} of {s['expected']:,} stations ({s['connectors']:,} connectors) through "
            f"the adapter's paging path in **{s['seconds']:.1f} s** ({_f(s['stations_per_s'], 0)} stations/s), "
            f"{_f(s['bytes_per_connector'], 0)} bytes per connector; {'ok' if s['ok'] else 'FAILED: ' + str(s['error'])}.",
        ]
    return "\n".join(lines) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0][0]
    rows = results.get("search") or []
    names = [k for k in LABELS if any(k in r["targets"] for r in rows)]
    width = 0.8 / max(1, len(names))
    for i, key in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(rows))]
        ax.bar(xs, [(r["targets"].get(key) or {}).get("cpu_us") or 0 for r in rows], width, label=LABELS[key])
    ax.set_xticks(
        range(len(rows)), [f"{r['stations']}/{r['radius_km']:g} km, c={r['concurrency']}" for r in rows]
    )
    ax.set_yscale("log")  # the graphql-core floor is an order of magnitude above the rest
    ax.set_ylabel("server CPU µs / request (log)")
    ax.set_title("Station search cost")
    top = max([(s or {}).get("cpu_us") or 1 for r in rows for s in r["targets"].values()], default=1)
    ax.set_ylim(top=top * 8)  # room for the legend above the bars
    ax.legend(fontsize="small", ncol=3, loc="upper left")
    ax = axes[0][1]
    fo = results.get("fan_out")
    if fo:
        ops = [r["operators"] for r in fo["rows"]]
        ax.plot(ops, [r["p50_ms"] for r in fo["rows"]], "o-", label="p50")
        ax.plot(ops, [r["p99_ms"] for r in fo["rows"]], "s--", label="p99")
        base = fo["rows"][0]["p50_ms"]
        if base:
            ax.axhline(base * 1.2, color="grey", linestyle=":", label="1.2 × p50 at 1 operator")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ops, [str(o) for o in ops])
        ax.set_xlabel(f"operators (each at {fo['latency_ms']:g} ms)")
        ax.set_ylabel("ms")
        ax.set_title("Fan-out latency")
        ax.legend()
    ax = axes[1][0]
    cat = (results.get("catalogue") or {}).get("radius") or []
    if cat:
        sizes = [r["stations"] for r in cat]
        ax.plot(sizes, [r["p50_ms"] for r in cat], "o-", label="p50")
        ax.plot(sizes, [r["p99_ms"] for r in cat], "s--", label="p99")
        ax.axhline(2.0, color="grey", linestyle=":", label="2 ms target")
        ax.set_xscale("log")
        ax.set_xlabel("stations in catalogue")
        ax.set_ylabel("ms per 5 km radius search")
        ax.set_title("Catalogue radius search")
        ax.legend()
    ax = axes[1][1]
    o = results.get("overhead")
    if o:
        ax.bar(["direct call", "through gateway"], [o["direct"]["p50_ms"] or 0, o["gateway"]["p50_ms"] or 0])
        ax.set_ylabel("p50 ms")
        ax.set_title(f"Overhead over one {o['latency_ms']:g} ms upstream call: {_f(o['overhead_ms'], 2)} ms")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
