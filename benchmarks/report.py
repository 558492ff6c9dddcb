"""Results files: ``latest.json`` (every sample), ``latest.md`` (tables), ``time_vs_scale.svg``, README block."""

from __future__ import annotations

import json
import math
from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
PARTS = ("sandbox", "extract", "night", "incremental")
SYNC_SOURCES = ("salesforce", "hubspot", "google_ads", "meta_ads", "linkedin_ads")
TARGET_SCALE = "M"


def merge(path: Path, measured: dict[str, dict], fresh: bool, header: dict) -> dict:
    """The previous results with the parts measured now replaced (each part keeps the run that measured it)."""
    results = {} if fresh or not path.exists() else json.loads(path.read_text())
    results.update(header)
    scales = results.setdefault("scales", {})
    for scale, section in measured.items():
        run = {**section.pop("run"), **header}
        target = scales.setdefault(scale, {})
        for part in PARTS:
            if part in section:
                target[part] = section[part]
                target[part]["run"] = run
        target["sources_not_importable"] = section.get("sources_not_importable", {})
    results["scales"] = {scale: scales[scale] for scale in sorted(scales, key="SML".index)}
    results["targets"] = evaluate_targets(results)
    results["scaling"] = scaling(results)
    return results


def failed_samples(measured: dict[str, dict]) -> int:
    """How many samples measured now failed their gates."""
    count = 0
    for section in measured.values():
        for tool in (section.get("extract") or {}).get("tools", {}).values():
            count += sum(1 for s in tool["samples"] if not s["valid"])
        count += sum(1 for s in (section.get("night") or {}).get("samples", []) if not s["valid"])
        for result in (section.get("incremental") or {}).values():
            if isinstance(result, dict):
                count += sum(1 for s in result.get("samples", []) if not s["valid"])
                count += 1 if "error" in result else 0
    return count


# --- derived figures ------------------------------------------------------------------------------------


def _get(data: dict, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _first_valid(samples: list[dict]) -> dict:
    return next((s for s in samples if s.get("valid")), {})


def night_rows(section: dict) -> int | None:
    """Rows in the raw tables after a valid full night."""
    sample = _first_valid(_get(section, "night", "samples", default=[]))
    return sum(sample["raw_rows"].values()) if sample.get("raw_rows") else None


#: Slopes in the scaling table that are not held to the linear target: the bare fetch loop measures how the
#: sandbox serves pages, the peer is the tool compared with.
REFERENCE_SLOPES = ("extract+load floor", "extract+load peer")


def scaling(results: dict) -> list[dict]:
    """Cost elasticity from S to M: ``slope = ln(t_M / t_S) / ln(n_M / n_S)`` (1 = linear, < 1 better)."""
    scales = results.get("scales", {})
    if "S" not in scales or "M" not in scales:
        return []
    small, medium = scales["S"], scales["M"]
    rows = []
    for tool in ("floor", "ours", "peer"):
        rows.append(("extract+load " + tool, _get(small, "extract", "rows_expected"),
                     _get(medium, "extract", "rows_expected"),
                     _get(small, "extract", "tools", tool, "median", "seconds"),
                     _get(medium, "extract", "tools", tool, "median", "seconds")))
    rows.append(("full night end to end", night_rows(small), night_rows(medium),
                 _get(small, "night", "median", "end_to_end_seconds"),
                 _get(medium, "night", "median", "end_to_end_seconds")))
    for stage in ("sync:all", "dbt_build", "checks", "publish"):
        rows.append((f"full night {stage}", night_rows(small), night_rows(medium),
                     _get(small, "night", "median", "stages", stage), _get(medium, "night", "median", "stages", stage)))
    out = []
    for name, n_small, n_medium, t_small, t_medium in rows:
        if not all((n_small, n_medium, t_small, t_medium)) or n_small == n_medium:
            continue
        slope = math.log(t_medium / t_small) / math.log(n_medium / n_small)
        out.append({"measure": name, "rows_S": n_small, "rows_M": n_medium, "seconds_S": t_small,
                    "seconds_M": t_medium, "slope": round(slope, 3)})
    return out


def evaluate_targets(results: dict) -> list[dict]:
    """The issue's targets against what was measured; verdicts only at the target's scale (M)."""
    targets = []
    for scale, section in results.get("scales", {}).items():
        extract = section.get("extract") or {}
        counted = scale == TARGET_SCALE
        if extract:
            targets.append(_target("extraction + load >= 80% of the bare fetch loop's rate", scale,
                                   extract.get("ours_vs_floor"), lambda v: v >= 0.8, "{:.0%} of the floor", counted))
            peer_target = _target("extraction + load >= 2x the peer's throughput", scale,
                                  extract.get("ours_vs_peer"), lambda v: v >= 2.0, "{:.2f}x the peer", counted)
            peer = _get(extract, "tools", "peer", default={})
            if peer_target["measured"] is None and peer.get("samples") and not peer.get("valid_samples"):
                reason = (peer["samples"][0].get("problems") or ["?"])[0][:120]
                peer_target.update(text=f"the peer failed every sample ({reason})",
                                   verdict="not measurable: the peer did not finish")
            targets.append(peer_target)
            ours_rate = _get(extract, "tools", "ours", "median", "rows_per_second")
            for variant in ("peer_parquet",):
                rate = _get(extract, "tools", variant, "median", "rows_per_second")
                if rate and ours_rate:
                    targets.append(_target(f"(information) extraction + load vs {variant}", scale, ours_rate / rate,
                                           lambda v: v >= 2.0, "{:.2f}x", counted))
            targets.append(_target("extraction + load peak RSS < 1.5 GB", scale,
                                   _get(extract, "tools", "ours", "median", "peak_rss_mb"), lambda v: v < 1536,
                                   "{:,.0f} MB", counted))
        night_peak = _get(section, "night", "median", "peak_rss_mb")
        if night_peak:
            targets.append(_target("nightly run process peak RSS < 1.5 GB (dbt subprocess apart)", scale, night_peak,
                                   lambda v: v < 1536, "{:,.0f} MB", counted))
        share = _get(section, "incremental", "0.01", "share_of_full_night")
        if share is not None:
            targets.append(_target("incremental night after 1% change < 15% of the full night", scale, share,
                                   lambda v: v < 0.15, "{:.0%} of the full night", True))
    for row in scaling(results):
        if row["measure"] in REFERENCE_SLOPES:
            continue  # the cost of the sandbox or of another tool, not of this product
        targets.append(_target(f"linear or better from S to M: {row['measure']}", "S->M", row["slope"],
                               lambda v: v <= 1.0, "slope {:.2f}", True))
    return targets


def _target(name: str, scale: str, value, passes, fmt: str, counted: bool) -> dict:
    if value is None:
        return {"target": name, "scale": scale, "measured": None, "text": "not measured", "verdict": "not measured"}
    verdict = ("met" if passes(value) else "missed") if counted else (
        "(would be met)" if passes(value) else "(would be missed)") + f" - not the target scale {TARGET_SCALE}"
    return {"target": name, "scale": scale, "measured": value, "text": fmt.format(value), "verdict": verdict}


# --- Markdown -------------------------------------------------------------------------------------------


def _fmt(value, spec: str = "{:.1f}", missing: str = "-") -> str:
    return missing if value is None else spec.format(value)


def _fmt_spread(value, spread: list | None, spec: str = "{:.1f}") -> str:
    """A median with the range of its samples when there was more than one: ``12.3 (11.9-13.0)``."""
    text = _fmt(value, spec)
    return f"{text} ({spec.format(spread[0])}-{spec.format(spread[1])})" if value is not None and spread else text


def markdown(results: dict) -> str:
    """The tables of latest.md (also the README block)."""
    scales = results.get("scales", {})
    machine, versions = results.get("machine", {}), results.get("versions", {})
    lines = [
        f"Machine: {machine.get('cpus')} cores, {machine.get('memory_gb')} GB RAM, {machine.get('platform')}, "
        f"Python {machine.get('python')}. Versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items() if v) + ".",
        "",
        "Seconds are medians over the valid samples, with the lowest and highest in brackets where there were "
        "several.",
        "",
        "Runs (each part below names its run's date and load average):",
    ]
    runs = {}
    for section in scales.values():
        for part in PARTS:
            run = _get(section, part, "run")
            if run:
                runs[(run["date"], run["command"])] = run
    for run in sorted(runs.values(), key=lambda r: r["date"]):
        lines.append(f"- {run['date']}: `{run['command']}` (load average at start "
                     f"{run.get('load_average_at_start')}, commit {_commit(run)}"
                     f"{' + uncommitted changes' if _get(run, 'git', 'uncommitted_changes') else ''}, "
                     f"code digest {_get(run, 'git', 'tree_digest', default='?')})")
    extract_rows, variant_rows = [], []
    for scale, section in scales.items():
        extract = section.get("extract")
        if not extract:
            continue
        tools = extract["tools"]
        medians = {tool: tools.get(tool, {}).get("median", {}) for tool in ("floor", "ours", "peer")}
        extract_rows.append(
            f"| {scale} | {extract['rows_expected']:,} | "
            + " | ".join(_fmt_spread(medians[t].get("seconds"), _get(tools, t, "range", "seconds"))
                         for t in ("floor", "ours", "peer")) + " | "
            + " | ".join(_fmt(medians[t].get("rows_per_second"), "{:,.0f}") for t in ("floor", "ours", "peer"))
            + f" | {_fmt(extract.get('ours_vs_floor'), '{:.0%}')} | {_fmt(extract.get('ours_vs_peer'), '{:.2f}x')} | "
            + " / ".join(_fmt(medians[t].get("peak_rss_mb"), "{:,.0f}") for t in ("floor", "ours", "peer")) + " | "
            + " / ".join(_fmt(medians[t].get("worker_cpu_seconds"), "{:.1f}") for t in ("floor", "ours", "peer"))
            + f" | {_fmt(medians['floor'].get('sandbox_cpu_seconds'), '{:.0f}')} | "
            + " / ".join(f"{tools[t]['valid_samples']}/{len(tools[t]['samples'])}" if t in tools else "-"
                         for t in ("floor", "ours", "peer")) + " |")
        floor_rate = medians["floor"].get("rows_per_second")
        ours_rate = medians["ours"].get("rows_per_second")
        for tool, data in tools.items():
            if tool in ("floor", "ours", "peer"):
                continue
            median = data["median"]
            variant_rows.append(
                f"| {scale} | {tool} | {_fmt(median['seconds'])} | {_fmt(median['rows_per_second'], '{:,.0f}')} | "
                f"{_fmt(_share(median['rows_per_second'], floor_rate), '{:.0%}')} | "
                f"{_fmt(_share(median['rows_per_second'], ours_rate), '{:.2f}x')} | "
                f"{_fmt(median['peak_rss_mb'], '{:,.0f}')} | {_fmt(median['worker_cpu_seconds'], '{:.1f}')} | "
                f"{data['valid_samples']}/{len(data['samples'])} |")
    if extract_rows:
        lines += ["", "### Extraction + load of the CRM list endpoints (identical requests for all three)", "",
                  "| scale | rows | floor s | ours s | peer s | floor rows/s | ours rows/s | peer rows/s | ours/floor "
                  "| ours/peer | peak RSS floor / ours / peer (MB) | client CPU s floor / ours / peer "
                  "| sandbox CPU s (floor run) | valid samples |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|", *extract_rows]
    if variant_rows:
        lines += ["", "Variants, for information only (`peer_parquet`: the peer with "
                  "`loader_file_format=\"parquet\"`):", "",
                  "| scale | variant | seconds | rows/s | of the floor's rate | vs ours | peak RSS (MB) "
                  "| client CPU s | valid samples |",
                  "|---|---|---|---|---|---|---|---|---|", *variant_rows]
    night_header = ["", "### Full night: Dagster job `nightly_sync` on an empty warehouse (seconds; step timings)", "",
                    "| scale | raw rows | " + " | ".join(f"sync {s}" for s in SYNC_SOURCES)
                    + " | dbt build | checks | publish | end to end | peak RSS run / dbt / sandbox (MB) "
                    "| valid samples |", "|---|---|" + "---|" * (len(SYNC_SOURCES) + 6)]
    if any(section.get("night") for section in scales.values()):
        lines += night_header
    for scale, section in scales.items():
        night = section.get("night")
        if not night:
            continue
        median = night["median"]
        stages, spreads = median["stages"], _get(night, "range", "stages", default={})
        lines.append(
            f"| {scale} | {_fmt(night_rows(section), '{:,}')} | "
            + " | ".join(_fmt_spread(stages.get(f"sync:{s}"), spreads.get(f"sync:{s}")) for s in SYNC_SOURCES) + " | "
            + " | ".join(_fmt_spread(stages.get(stage), spreads.get(stage))
                         for stage in ("dbt_build", "checks", "publish"))
            + f" | **{_fmt_spread(median['end_to_end_seconds'], _get(night, 'range', 'end_to_end_seconds'))}** | "
            + f"{_fmt(median['peak_rss_mb'], '{:,.0f}')} / {_fmt(median['peak_child_rss_mb'], '{:,.0f}')} / "
            + f"{_fmt(median['sandbox_peak_rss_mb'], '{:,.0f}')} | {night['valid_samples']}/{len(night['samples'])} |")
    if any(section.get("incremental") for section in scales.values()):
        lines += ["", "### Incremental night after `advance(days=1, change_rate=r)`, on a copy of the full night's "
                  "warehouse", "",
                  "| scale | r | CRM records changed | rows loaded | sync (all) | dbt build | checks | publish "
                  "| end to end | share of full night | valid samples |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
    for scale, section in scales.items():
        for rate, result in (section.get("incremental") or {}).items():
            if not isinstance(result, dict) or rate == "run":
                continue
            if "median" not in result:
                lines.append(f"| {scale} | {rate} | failed: {result.get('error')} |" + " |" * 8)
                continue
            median = result["median"]
            stages, spreads = median["stages"], _get(result, "range", "stages", default={})
            lines.append(
                f"| {scale} | {rate} | {_fmt(crm_changes(result.get('changes')), '{:,}')} | "
                f"{_fmt(median['rows_loaded'], '{:,.0f}')} | "
                + " | ".join(_fmt_spread(stages.get(stage), spreads.get(stage))
                             for stage in ("sync:all", "dbt_build", "checks", "publish"))
                + f" | **{_fmt_spread(median['end_to_end_seconds'], _get(result, 'range', 'end_to_end_seconds'))}** | "
                f"{_fmt(result.get('share_of_full_night'), '{:.0%}')} | "
                f"{result['valid_samples']}/{len(result['samples'])} |")
    if results.get("scaling"):
        lines += ["", "### Scaling from S to M (slope = ln(t_M/t_S) / ln(rows_M/rows_S); 1 = linear)", "",
                  "| measure | rows S | rows M | seconds S | seconds M | slope |", "|---|---|---|---|---|---|"]
        for row in results["scaling"]:
            lines.append(f"| {row['measure']} | {row['rows_S']:,} | {row['rows_M']:,} | {row['seconds_S']:.1f} | "
                         f"{row['seconds_M']:.1f} | {row['slope']:.2f} |")
    lines += ["", "### Targets (issue #9)", "", "| target | scale | measured | verdict |", "|---|---|---|---|"]
    for target in results.get("targets", []):
        lines.append(f"| {target['target']} | {target['scale']} | {target['text']} | {target['verdict']} |")
    return "\n".join(lines) + "\n"


def _commit(run: dict) -> str:
    """The run's commit: a SHA shortened to 10 digits, a description (a run from a `git archive`) whole."""
    commit = _get(run, "git", "commit", default="?")
    return commit[:10] if all(c in "0123456789abcdef" for c in commit) else commit


def _share(a, b):
    return a / b if a and b else None


def crm_changes(changes: dict | None) -> int | None:
    """CRM records created, updated, converted, deleted, archived or merged by an advance."""
    if not changes:
        return None
    return sum(count for kind, per_object in changes.items() if isinstance(per_object, dict) and kind != "restated"
               for key, count in per_object.items() if key.startswith(("salesforce.", "hubspot.")))


# --- the plot -------------------------------------------------------------------------------------------


def svg_plot(results: dict) -> str | None:
    """Seconds against rows (log-log), one line per measure, as a self-contained SVG (no plotting library)."""
    series: dict[str, list[tuple[float, float]]] = {}
    for section in results.get("scales", {}).values():
        extract = section.get("extract") or {}
        for tool, label in (("ours", "extract+load: ours"), ("floor", "extract: bare fetch floor"),
                            ("peer", "extract+load: dlt rest_api peer")):
            seconds = _get(extract, "tools", tool, "median", "seconds")
            if seconds and extract.get("rows_expected"):
                series.setdefault(label, []).append((extract["rows_expected"], seconds))
        rows = night_rows(section)
        if rows:
            for label, path in (("full night end to end", ("night", "median", "end_to_end_seconds")),
                                ("full night: dbt build", ("night", "median", "stages", "dbt_build")),
                                ("full night: checks", ("night", "median", "stages", "checks"))):
                seconds = _get(section, *path)
                if seconds:
                    series.setdefault(label, []).append((rows, seconds))
    points = [p for line in series.values() for p in line]
    if not points:
        return None
    width, height, left, right, top, bottom = 760, 420, 70, 230, 30, 50
    x_lo, x_hi = math.floor(math.log10(min(p[0] for p in points))), math.ceil(math.log10(max(p[0] for p in points)))
    y_lo, y_hi = math.floor(math.log10(min(p[1] for p in points))), math.ceil(math.log10(max(p[1] for p in points)))
    x_hi, y_hi = max(x_hi, x_lo + 1), max(y_hi, y_lo + 1)

    def x(value: float) -> float:
        return left + (math.log10(value) - x_lo) / (x_hi - x_lo) * (width - left - right)

    def y(value: float) -> float:
        return height - bottom - (math.log10(value) - y_lo) / (y_hi - y_lo) * (height - top - bottom)

    colours = ["#1f77b4", "#7f7f7f", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">', f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Time against scale (median seconds; log-log)</text>']
    for exponent in range(x_lo, x_hi + 1):
        px = x(10 ** exponent)
        out.append(f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{height - bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{px:.1f}" y="{height - bottom + 16}" text-anchor="middle">1e{exponent}</text>')
    for exponent in range(y_lo, y_hi + 1):
        py = y(10 ** exponent)
        out.append(f'<line x1="{left}" y1="{py:.1f}" x2="{width - right}" y2="{py:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end">{10 ** exponent:g} s</text>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">'
               f'rows (extraction: CRM list rows; nights: raw rows)</text>')
    for index, (label, line) in enumerate(sorted(series.items())):
        colour = colours[index % len(colours)]
        line = sorted(line)
        if len(line) > 1:
            path = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in line)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for a, b in line:
            out.append(f'<circle cx="{x(a):.1f}" cy="{y(b):.1f}" r="4" fill="{colour}"/>')
        legend_y = top + 10 + index * 18
        out.append(f'<rect x="{width - right + 15}" y="{legend_y - 9}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{width - right + 32}" y="{legend_y + 1}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_all(results: dict, folder: Path, readme: bool = True) -> None:
    """latest.json, latest.md, time_vs_scale.svg, and (when `readme`) the README's results block."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    table = markdown(results)
    (folder / "latest.md").write_text("# Benchmark results (latest)\n\n" + table)
    plot = svg_plot(results)
    if plot:
        (folder / "time_vs_scale.svg").write_text(plot)
    if readme and README.exists():
        text = README.read_text()
        if START in text and END in text:
            head, rest = text.split(START, 1)
            _, tail = rest.split(END, 1)
            README.write_text(f"{head}{START}\n{table}\n{END}{tail}")
