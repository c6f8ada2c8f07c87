"""Folio's benchmark driver: quality and speed on ../shared/eval, side by side with reference
tools, written to bench/out/report.{md,json} and SVG plots. Run it through `scripts/bench`.

Every speed figure is measured in this run, on the same files and with the same thread count as
its reference; Folio and the reference alternate (A B A B ...) so that a slow spell of the
machine hits both. Threads are pinned with `taskset` (Folio uses the CPUs it may run on).
A missing reference is skipped and the report says so. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "bench" / "reference"


# ---------------------------------------------------------------------------------------------
# Running things


def run_json(cmd, env=None):
    """Runs a command that prints one JSON document on stdout and returns it parsed."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def run_json_lines(cmd):
    """Runs a command that prints one JSON object per line."""
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def pinned(threads):
    """`taskset` prefix giving a process `threads` CPUs (Folio sizes its pools from them)."""
    cpus = ",".join(str(i) for i in range(threads))
    return ["taskset", "-c", cpus]


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def ratio(folio, reference):
    if not folio or not reference or not reference["median"]:
        return None
    return folio["median"] / reference["median"]


def loadavg():
    return os.getloadavg()[0]


class Bench:
    def __init__(self, args):
        self.args = args
        self.folio = [args.folio, "--models", args.models]
        self.out = Path(args.out)
        self.work = self.out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.python = args.python if args.python and Path(args.python).exists() else None
        self.report = {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "mode": "smoke" if args.smoke else "full",
            "corpus": str(args.pdfs),
            "rounds": args.rounds,
            "threads": args.threads,
            "skipped": [],
            "load_average": {"start": loadavg()},
        }

    def skip(self, what, why):
        print(f"  skipped {what}: {why}", flush=True)
        self.report["skipped"].append({"what": what, "why": why})

    def step(self, title):
        print(f"== {title} (load {loadavg():.2f})", flush=True)

    # -- extraction -----------------------------------------------------------------------------

    def extraction(self):
        self.step("extraction vs pdftotext")
        pdfs = sorted(Path(self.args.pdfs).rglob("*.pdf"))
        chunks = self.work / "chunks.json"
        pdftotext = shutil.which("pdftotext")
        if not pdftotext:
            self.skip("pdftotext", "not installed (Debian package poppler-utils)")
        folio_rates, ref_rates, pages = [], [], 0
        for _ in range(self.args.rounds):
            result = run_json(self.folio + ["bench", "extract", self.args.pdfs, "--chunks-out", chunks, "--json"])
            pages = result["rate"]["items"]
            folio_rates.append(result["rate"]["per_second"])
            if pdftotext:
                started = time.perf_counter()
                for pdf in pdfs:
                    subprocess.run([pdftotext, pdf, "-"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                ref_rates.append(pages / (time.perf_counter() - started))
        folio, ref = summary(folio_rates), summary(ref_rates)
        self.report["extraction"] = {"files": len(pdfs), "pages": pages, "folio_pages_per_s": folio,
                                     "pdftotext_pages_per_s": ref, "ratio": ratio(folio, ref), "target": 0.5}
        return json.loads(chunks.read_text())

    # -- embedding ------------------------------------------------------------------------------

    def embedding(self, chunk_texts):
        self.step("embedding vs ONNX Runtime")
        sample = chunk_texts[: self.args.embed_sample]
        texts = self.work / "embed-sample.json"
        texts.write_text(json.dumps(sample))
        model_dir = Path(self.args.models) / "all-MiniLM-L6-v2"
        have_ref = self.python is not None
        if not have_ref:
            self.skip("ONNX Runtime embedder", "bench Python environment missing (scripts/bench sets it up)")
        rows = []
        for threads in self.args.threads:
            folio_rates, ref_rates = [], []
            for i in range(self.args.rounds):
                vectors = self.work / "folio-vectors.json" if i == 0 else None
                cmd = pinned(threads) + self.folio + ["bench", "embed", "--texts", texts,
                                                      "--batch", self.args.batch, "--json"]
                if vectors:
                    cmd += ["--vectors-out", vectors]
                folio_rates.append(run_json(cmd)["per_second"])
                if have_ref:
                    ref_vectors = self.work / "onnx-vectors.json" if i == 0 else None
                    cmd = pinned(threads) + [self.python, REFERENCE / "embed_onnx.py", "--model", model_dir,
                                             "--texts", texts, "--batch", self.args.batch, "--threads", threads]
                    if ref_vectors:
                        cmd += ["--vectors", ref_vectors]
                    ref_rates.append(run_json(cmd)["per_second"])
            folio, ref = summary(folio_rates), summary(ref_rates)
            rows.append({"threads": threads, "folio_chunks_per_s": folio, "onnxruntime_chunks_per_s": ref,
                         "ratio": ratio(folio, ref)})
        agreement = None
        if have_ref:
            a = json.loads((self.work / "folio-vectors.json").read_text())
            b = json.loads((self.work / "onnx-vectors.json").read_text())
            agreement = min(sum(x * y for x, y in zip(u, v)) for u, v in zip(a, b))
        self.report["embedding"] = {"texts": len(sample), "batch": self.args.batch, "rows": rows,
                                    "min_cosine_folio_vs_reference": agreement, "target": 1.0}

    # -- generation -----------------------------------------------------------------------------

    def generation(self, chunk_texts):
        self.step("generation vs llama.cpp")
        prompt = self.work / "prompt.txt"
        passages, size = [], 0
        for text in chunk_texts:
            if size > self.args.prompt_chars:
                break
            passages.append(text)
            size += len(text)
        prompt.write_text("Read these passages, then explain in detail what they say.\n\n" + "\n\n".join(passages))
        installed = run_json_lines(self.folio + ["models", "list", "--json"])
        path = next((m["path"] for m in installed if m["name"] == self.args.model), None)
        if path is None:
            self.skip("generation", f"model {self.args.model} is not installed")
            return
        have_ref = self.python is not None and subprocess.run(
            [self.python, "-c", "import llama_cpp"], capture_output=True).returncode == 0
        if not have_ref:
            self.skip("llama.cpp", "llama-cpp-python is not installed in the bench environment")
        rows = []
        for threads in self.args.threads:
            folio_runs, ref_runs = [], []
            for _ in range(self.args.rounds):
                folio_runs += run_json(pinned(threads) + self.folio + [
                    "bench", "generate", "--model", self.args.model, "--prompt", prompt,
                    "--max-tokens", self.args.max_tokens, "--repeats", self.args.repeats, "--json"])["runs"]
                if have_ref:
                    try:
                        ref_runs += run_json(pinned(threads) + [
                            self.python, REFERENCE / "generate_llama.py", "--model", path, "--prompt", prompt,
                            "--max-tokens", self.args.max_tokens, "--repeats", self.args.repeats,
                            "--threads", threads])["runs"]
                    except RuntimeError as error:
                        # A reference that crashes is a missing reference, not a failed run.
                        self.skip("llama.cpp", f"it failed on this machine: {str(error).splitlines()[0]}")
                        have_ref, ref_runs = False, []
            row = {"threads": threads}
            for key in ["prefill_tokens_per_second", "decode_tokens_per_second", "time_to_first_token_ms"]:
                folio = summary([r[key] for r in folio_runs])
                ref = summary([r[key] for r in ref_runs])
                row[key] = {"folio": folio, "llama_cpp": ref, "ratio": ratio(folio, ref)}
            row["prompt_tokens"] = {"folio": summary([r["prompt_tokens"] for r in folio_runs]),
                                    "llama_cpp": summary([r["prompt_tokens"] for r in ref_runs])}
            rows.append(row)
        self.report["generation"] = {"model": self.args.model, "file": path, "max_tokens": self.args.max_tokens,
                                     "rows": rows, "targets": {"prefill": 0.8, "decode": 0.9}}

    # -- quality --------------------------------------------------------------------------------

    def quality(self):
        self.step("retrieval quality")
        library = self.work / "library"
        # A library left by an earlier run would keep that run's text and vectors ("unchanged"
        # files are not read again), so its figures would not be this build's.
        shutil.rmtree(library, ignore_errors=True)
        qa = self.args.qa
        self.report["retrieval"] = run_json(self.folio + ["--library", library, "bench", "retrieval",
                                                          self.args.pdfs, "--qa", qa, "--json"])
        if self.args.skip_answers:
            self.skip("answer quality", "--skip-answers")
            return
        self.step("answer quality")
        cmd = self.folio + ["--library", library, "bench", "models", "--questions", qa,
                            "--model", self.args.model, "--json"]
        if self.args.answer_limit:
            cmd += ["--limit", self.args.answer_limit]
        self.report["answers"] = run_json(cmd)

    # -- end to end and scale -------------------------------------------------------------------

    def scale(self):
        self.step("end to end and scale")
        base = sorted(Path(self.args.pdfs).rglob("*.pdf"))[: self.args.scale_base]
        points = []
        for factor in self.args.scale:
            corpus = self.work / f"scale-{factor}x"
            shutil.rmtree(corpus, ignore_errors=True)
            corpus.mkdir()
            for copy in range(factor):
                for pdf in base:
                    data = pdf.read_bytes()
                    # A trailing comment makes each copy a distinct file (new sha256, same text):
                    # readers ignore bytes after %%EOF.
                    if copy:
                        data += f"\n%folio-bench copy {copy}\n".encode()
                    (corpus / f"{pdf.stem} copy{copy}.pdf").write_bytes(data)
            started = loadavg()
            result = run_json(self.folio + ["bench", "ingest", corpus, "--queries", self.args.qa,
                                            "--searches", self.args.searches, "--embed-sample", "8", "--json"])
            result["factor"] = factor
            result["load_average_start"] = started
            points.append(result)
            print(f"  {factor}x: {result['end_to_end_pages']['per_second']:.2f} pages/s, "
                  f"search p95 {result['search']['p95_ms']:.1f} ms", flush=True)
            shutil.rmtree(corpus, ignore_errors=True)
        self.report["scale"] = {"base_files": [p.name for p in base], "points": points,
                                "targets": {"search_p95_ms": 50}}

    def run(self):
        chunk_texts = self.extraction()
        self.embedding(chunk_texts)
        self.generation(chunk_texts)
        self.quality()
        self.scale()
        self.report["load_average"]["end"] = loadavg()
        write_report(self.report, self.out)


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    except OSError:
        mem = 0
    return {"cpu": cpu, "cpus": os.cpu_count(), "memory_gib": round(mem / 2**20, 1),
            "os": platform.platform()}


# ---------------------------------------------------------------------------------------------
# Report


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def spread(s, digits=1):
    if not s:
        return "skipped"
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}–{s['max']:.{digits}f})"


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "—"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "missed"


def summary_rows(r):
    """The at-a-glance table: (measure, Folio, reference, ratio, target, verdict)."""
    rows = []
    ex = r.get("extraction")
    if ex:
        rows.append(("PDF extraction, pages/s", spread(ex["folio_pages_per_s"]),
                     "pdftotext " + spread(ex["pdftotext_pages_per_s"]), fmt(ex["ratio"], 2),
                     "≥ 0.5×", verdict(ex["ratio"], 0.5)))
    for row in (r.get("embedding") or {}).get("rows", []):
        rows.append((f"embedding, chunks/s, {row['threads']} thread(s)", spread(row["folio_chunks_per_s"]),
                     "ONNX Runtime " + spread(row["onnxruntime_chunks_per_s"]), fmt(row["ratio"], 2),
                     "≥ 1.0×", verdict(row["ratio"], 1.0)))
    for row in (r.get("generation") or {}).get("rows", []):
        for key, label, target in [("prefill_tokens_per_second", "prefill, tokens/s", 0.8),
                                   ("decode_tokens_per_second", "decode, tokens/s", 0.9)]:
            g = row[key]
            rows.append((f"{label}, {row['threads']} thread(s)", spread(g["folio"]),
                         "llama.cpp " + spread(g["llama_cpp"]), fmt(g["ratio"], 2),
                         f"≥ {target}×", verdict(g["ratio"], target)))
    scale = (r.get("scale") or {}).get("points", [])
    if scale:
        p = scale[0]
        rows.append(("end-to-end ingest (1×), pages/s", fmt(p["end_to_end_pages"]["per_second"], 2), "", "", "", ""))
        rows.append(("hybrid search p50 / p95, ms", f"{p['search']['p50_ms']:.1f} / {p['search']['p95_ms']:.1f}",
                     "", "", "p95 ≤ 50", verdict(p["search"]["p95_ms"], 50, higher_is_better=False)))
        for key, label in [("peak_rss_bytes", "peak"), ("median_rss_bytes", "median")]:
            rss = [q[key] for q in scale if q.get(key)]
            if rss:
                rows.append((f"{label} RSS while ingesting, across scales, MiB",
                             " → ".join(f"{b / 2**20:.0f}" for b in rss), "", "", "flat", ""))
    answers = (r.get("answers") or {}).get("rows", [])
    for a in answers:
        rows.append((f"time to first token, RAG question ({a['model']}), ms", fmt(a["ttft_median_ms"], 0),
                     "", "", "", ""))
    ret = r.get("retrieval")
    if ret:
        best = {m["mode"]: m for m in ret["modes"]}
        hybrid = best.get("hybrid")
        single = max((m["recall_at_5"] for k, m in best.items() if k != "hybrid"), default=None)
        if hybrid:
            rows.append(("page recall@5, hybrid (best single mode)",
                         f"{hybrid['recall_at_5']:.3f} ({fmt(single, 3)})", "", "", "≥ 0.85",
                         verdict(hybrid["recall_at_5"], 0.85)))
            figures = max((m["recall_at_5_with_figures"] for k, m in best.items() if k != "hybrid"),
                          default=None)
            rows.append(("same, a gold document's page holding a key figure also counting",
                         f"{hybrid['recall_at_5_with_figures']:.3f} ({fmt(figures, 3)})", "", "", "", ""))
    for a in answers:
        rows.append((f"answers citing a gold page ({a['model']})", f"{a['cites_gold']}/{a['with_gold']}",
                     "", "", "", ""))
        rows.append(("unanswerable questions abstained", f"{a['abstained_unanswerable']}/{a['unanswerable']}",
                     "", "", "", ""))
        rows.append(("answerable questions wrongly abstained", f"{a['abstained_answerable']}/{a['answerable']}",
                     "", "", "", ""))
    return rows


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_report(r, out):
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(r, indent=2))
    m = r["machine"]
    md = [f"# Folio benchmark report ({r['mode']})", "",
          f"{r['date']} · {m['cpu']} · {m['cpus']} CPUs · {m['memory_gib']} GiB · corpus `{r['corpus']}` · "
          f"{r['rounds']} alternating rounds · load average {r['load_average']['start']:.2f} at start, "
          f"{r['load_average'].get('end', 0):.2f} at end.",
          "", "Figures are medians (min–max) over the rounds; ratio = Folio / reference.", "",
          "## Summary", "",
          table(["measure", "Folio", "reference, same run", "ratio", "target", ""], summary_rows(r)), ""]
    if r["skipped"]:
        md += ["Skipped: " + "; ".join(f"{s['what']} ({s['why']})" for s in r["skipped"]), ""]
    ret = r.get("retrieval")
    if ret:
        md += ["## Retrieval (page level)", "",
               f"{ret['questions']} answerable questions; a hit is a retrieved page listed in the gold evidence "
               "(+fig: or a page of a gold document holding a key figure of the expected answer).", "",
               table(["mode", "recall@1", "recall@3", "recall@5", "recall@10", "MRR", "missed (top 10)", "recall@5 +fig",
                      "recall@10 +fig"],
                     [(x["mode"], f"{x['recall_at_1']:.3f}", f"{x.get('recall_at_3', float('nan')):.3f}",
                       f"{x['recall_at_5']:.3f}", f"{x['recall_at_10']:.3f}",
                       f"{x['mrr']:.3f}", len(x["misses"]), f"{x['recall_at_5_with_figures']:.3f}",
                       f"{x['recall_at_10_with_figures']:.3f}") for x in ret["modes"]]), "",
               "Questions hybrid search misses in its top 10: "
               + ", ".join(next(x["misses"] for x in ret["modes"] if x["mode"] == "hybrid")), ""]
    gen = r.get("generation")
    if gen:
        md += ["## Generation", "", f"Model `{gen['model']}`, up to {gen['max_tokens']} new tokens, "
               "greedy; TTFT = time to the first streamed text.", "",
               table(["threads", "prompt tokens", "Folio TTFT ms", "llama.cpp TTFT ms"],
                     [(row["threads"], spread(row["prompt_tokens"]["folio"], 0),
                       spread(row["time_to_first_token_ms"]["folio"], 0),
                       spread(row["time_to_first_token_ms"]["llama_cpp"], 0)) for row in gen["rows"]]), ""]
    emb = r.get("embedding")
    if emb and emb["min_cosine_folio_vs_reference"] is not None:
        md += [f"Embedding check: the lowest cosine between Folio's and ONNX Runtime's vector of the same "
               f"text is {emb['min_cosine_folio_vs_reference']:.6f} ({emb['texts']} texts, batch {emb['batch']}).", ""]
    scale = r.get("scale")
    if scale:
        md += ["## Scale", "", f"Base corpus: {', '.join(scale['base_files'])}; larger sizes are copies "
               "(distinct files, same text).", "",
               table(["corpus", "pages", "chunks", "ingest pages/s", "ingest chunks/s", "search p50 ms",
                      "search p95 ms", "vector search", "peak RSS MiB", "median / p95 RSS MiB"],
                     [(f"{p['factor']}×", p["end_to_end_pages"]["items"], p["end_to_end_chunks"]["items"],
                       fmt(p["end_to_end_pages"]["per_second"], 2), fmt(p["end_to_end_chunks"]["per_second"], 2),
                       fmt(p["search"]["p50_ms"]), fmt(p["search"]["p95_ms"]), vector_search(p["search"]),
                       fmt((p.get("peak_rss_bytes") or 0) / 2**20, 0),
                       f'{(p.get("median_rss_bytes") or 0) / 2**20:.0f} / {(p.get("p95_rss_bytes") or 0) / 2**20:.0f}')
                      for p in scale["points"]]), "",
               "The peak is the kernel's high-water mark for `add` (a longer run has more moments that can "
               "reach it); median and p95 come from resident memory sampled every 100 ms while `add` runs.", "",
               "![scale](scale.svg)", ""]
    md += ["![ratios](ratios.svg)", ""]
    (out / "report.md").write_text("\n".join(md))
    (out / "summary.md").write_text(table(["measure", "Folio", "reference, same run", "ratio", "target", ""],
                                          summary_rows(r)) + "\n")
    write_ratio_plot(r, out / "ratios.svg")
    if scale:
        write_scale_plot(scale["points"], out / "scale.svg")


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>'
            + "".join(body) + "</svg>\n")


def write_ratio_plot(r, path):
    """Horizontal bars: Folio / reference for each speed figure, with its target marked."""
    bars = []
    ex = r.get("extraction")
    if ex and ex["ratio"]:
        bars.append(("extraction", ex["ratio"], 0.5))
    for row in (r.get("embedding") or {}).get("rows", []):
        if row["ratio"]:
            bars.append((f"embedding {row['threads']}t", row["ratio"], 1.0))
    for row in (r.get("generation") or {}).get("rows", []):
        for key, label, target in [("prefill_tokens_per_second", "prefill", 0.8),
                                   ("decode_tokens_per_second", "decode", 0.9)]:
            if row[key]["ratio"]:
                bars.append((f"{label} {row['threads']}t", row[key]["ratio"], target))
    left, width, bar_h = 120, 420, 22
    scale_max = 2.0  # bars beyond 2x are cut (their label still gives the value)
    x = lambda v: left + min(v, scale_max) / scale_max * width
    body = [f'<text x="{left}" y="16" font-weight="bold">Folio / reference (same run); | = target</text>']
    for i, (label, value, target) in enumerate(bars):
        y = 30 + i * (bar_h + 8)
        colour = "#2e7d32" if value >= target else "#c62828"
        body += [f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{label}</text>',
                 f'<rect x="{left}" y="{y}" width="{x(value) - left:.1f}" height="{bar_h}" fill="{colour}"/>',
                 f'<line x1="{x(target):.1f}" x2="{x(target):.1f}" y1="{y - 3}" y2="{y + bar_h + 3}" '
                 f'stroke="black" stroke-width="2"/>',
                 f'<text x="{x(value) + 4:.1f}" y="{y + 15}">{value:.2f}×</text>']
    axis_y = 30 + len(bars) * (bar_h + 8)
    body.append(f'<line x1="{x(1):.1f}" x2="{x(1):.1f}" y1="26" y2="{axis_y}" stroke="#888" stroke-dasharray="4 3"/>')
    body.append(f'<text x="{x(1):.1f}" y="{axis_y + 14}" text-anchor="middle" fill="#555">1×</text>')
    Path(path).write_text(svg(left + width + 80, axis_y + 24, body))


def vector_search(search):
    """How a scale point's vector search ran: an exact scan, or the approximate index and its recall."""
    recall = search.get("approximate_recall_at_10")
    return "exact scan" if recall is None else f"IVF index, recall@10 {recall:.3f} of exact"


def write_scale_plot(points, path):
    """Small line charts against corpus size: ingest pages/s, search p95, peak and median RSS."""
    series = [("ingest pages/s", [p["end_to_end_pages"]["per_second"] for p in points]),
              ("search p95 ms", [p["search"]["p95_ms"] for p in points]),
              ("peak RSS MiB", [(p.get("peak_rss_bytes") or 0) / 2**20 for p in points]),
              ("median RSS MiB", [(p.get("median_rss_bytes") or 0) / 2**20 for p in points])]
    pages = [p["end_to_end_pages"]["items"] for p in points]
    w, h, pad = 240, 160, 40
    body = []
    for i, (title, ys) in enumerate(series):
        ox = 10 + i * (w + 20)
        top = max(ys + [1e-9]) * 1.2
        px = lambda k: ox + pad + (k / max(len(pages) - 1, 1)) * (w - pad - 10)
        py = lambda v: 30 + (1 - v / top) * (h - 40)
        body += [f'<text x="{ox + w / 2}" y="16" text-anchor="middle" font-weight="bold">{title}</text>',
                 f'<line x1="{ox + pad}" x2="{ox + pad}" y1="30" y2="{h - 10}" stroke="#888"/>',
                 f'<line x1="{ox + pad}" x2="{ox + w - 10}" y1="{h - 10}" y2="{h - 10}" stroke="#888"/>',
                 f'<text x="{ox + pad - 4}" y="36" text-anchor="end" fill="#555">{top:.0f}</text>']
        pts = " ".join(f"{px(k):.1f},{py(v):.1f}" for k, v in enumerate(ys))
        body.append(f'<polyline points="{pts}" fill="none" stroke="#1565c0" stroke-width="2"/>')
        for k, v in enumerate(ys):
            body += [f'<circle cx="{px(k):.1f}" cy="{py(v):.1f}" r="3" fill="#1565c0"/>',
                     f'<text x="{px(k):.1f}" y="{py(v) - 6:.1f}" text-anchor="middle">{v:.1f}</text>',
                     f'<text x="{px(k):.1f}" y="{h + 6}" text-anchor="middle" fill="#555">{pages[k]} p</text>']
    Path(path).write_text(svg(len(series) * (w + 20), h + 20, body))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folio", required=True, help="the folio binary")
    parser.add_argument("--models", required=True, help="models folder")
    parser.add_argument("--python", help="Python of the bench environment (ONNX Runtime, llama-cpp-python)")
    parser.add_argument("--pdfs", required=True)
    parser.add_argument("--qa", required=True)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"))
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--embed-sample", type=int, default=256)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--prompt-chars", type=int, default=2000)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scale", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--scale-base", type=int, default=2, help="PDFs of the corpus copied for the scale runs")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--skip-answers", action="store_true")
    parser.add_argument("--answer-limit", type=int)
    parser.add_argument("--smoke", action="store_true", help="label the report as a smoke run")
    args = parser.parse_args()
    if os.cpu_count() and max(args.threads) > os.cpu_count():
        args.threads = [t for t in args.threads if t <= os.cpu_count()]
    started = time.time()
    Bench(args).run()
    print(f"report: {Path(args.out) / 'report.md'} ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    sys.exit(main())
