"""Embedding backends: texts/s and how well each keeps the transformer's nearest neighbours.

    .venv/bin/python benchmarks/embed_backends.py --quick          # 1,000 rows, recipe sweep on 300
    .venv/bin/python benchmarks/embed_backends.py                  # 5,000 and 20,000 rows (hours on 2 cores)
    .venv/bin/python benchmarks/embed_backends.py --rows 5000 --long-rows 2000

For short texts (the sample generator's instruction + output, ~540 chars, as the asset embeds them)
and long texts (instruction + input + output of consecutive rows joined up to ~2,000 chars, so
truncated at the model's 256 tokens), at each size, in one run:

(a) the raw sentence-transformers encode (texts/s, on the first --raw-rows texts: it is the same
    model as the stage's sentence-transformers row, so timing it on all 20,000 would only double the
    run);
(b) the generation_embeddings stage path (lib.embedding.embed_with_backend, cache disabled) with each
    backend: sentence-transformers, onnx-fp32, onnx-int8, model2vec (texts/s; speed_x = ratio to the
    sentence-transformers stage on the same texts, measured back to back);
(c) each backend's 10-nearest-neighbour agreement with the transformer (share of each text's 10
    neighbours, by cosine within the set, that the stage's sentence-transformers vectors also have)
    and the mean cosine between a text's two vectors (model2vec has other dimensions: NaN).

Sizes run in the order short 5k, long 5k, short 20k, long 20k, each table printed as soon as it is
done, so a run stopped early still has the smaller sizes.

Then a trade-off table of the ONNX recipes tried (lib.embedding_onnx.RECIPES): speed ratio vs
agreement on the first --sweep-rows texts of each kind. Exported ONNX files are cached in
--cache-dir (default data/models/onnx), so only the first run pays the export (~5 s + ~10 s per
quantized recipe). With CUDA available the transformer's GPU figures are printed as well.
"""

import argparse
import os
import time

import numpy as np
import pandas as pd

from curation_dagster.lib.embedding import (BACKENDS, DEFAULT_MODEL, embed_texts, embed_with_backend, embedding_text,
                                            load_model, resolve_model_path)
from curation_dagster.lib.embedding_onnx import DEFAULT_INT8_RECIPE, RECIPES, OnnxEmbedder
from curation_dagster.sample_data import generate_sample_data

FIELDS = ("instruction", "output")
K = 10
LONG_CHARS = 2_000


def clean_rows(n: int, seed: int) -> list[dict]:
    """The generator's rows without its labelled noise (e.g. broken unicode), i.e. what the filter keeps."""
    gens, labels = generate_sample_data(n_rows=int(n * 1.4) + 50, seed=seed)
    noise = set(labels.loc[labels["is_noise"].astype(bool), "generation_id"])
    return [r for r in gens.to_dict("records") if r["generation_id"] not in noise]


def short_texts(n: int) -> list[str]:
    return [embedding_text(r, FIELDS) for r in clean_rows(n, seed=3)][:n]


def long_texts(n: int) -> list[str]:
    """Consecutive rows' instruction + input + output joined up to ~2,000 chars (cut at a word)."""
    parts = [embedding_text(r, ("instruction", "input_message", "output")) for r in clean_rows(n * 3, seed=5)]
    out, i = [], 0
    while len(out) < n:
        buf = []
        while sum(len(p) + 1 for p in buf) < LONG_CHARS:
            buf.append(parts[i % len(parts)])
            i += 1
        out.append("\n".join(buf)[:LONG_CHARS].rsplit(" ", 1)[0])
    return out


def knn(v: np.ndarray, k: int = K, block: int = 2048) -> np.ndarray:
    """Indices of each row's k nearest other rows by cosine (rows are unit vectors), blocked."""
    out = np.empty((len(v), k), dtype=np.int64)
    for s in range(0, len(v), block):
        sims = v[s:s + block] @ v.T
        sims[np.arange(len(sims)), np.arange(s, s + len(sims))] = -np.inf
        out[s:s + block] = np.argpartition(-sims, k, axis=1)[:, :k]
    return out


def agreement(ref_nn: np.ndarray, ref: np.ndarray, vecs: np.ndarray) -> tuple[float, float]:
    nn = knn(vecs)
    shared = np.mean([len(set(a) & set(b)) / K for a, b in zip(ref_nn, nn)])
    cos = float(np.mean(np.sum(ref * vecs, axis=1))) if ref.shape == vecs.shape else float("nan")
    return float(shared), cos


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run_size(kind: str, texts: list[str], batch_size: int, warm: list[str],
             raw_rows: int) -> tuple[list[dict], np.ndarray, float]:
    """(a) the raw encode on the first `raw_rows` texts, then (b)/(c) the stage with every backend on all
    of them; the sentence-transformers stage's vectors are the reference the others are compared with."""
    model = load_model()
    embed_texts(model, warm, batch_size)
    sub = texts[:raw_rows]
    _, t_raw = timed(lambda: embed_texts(model, sub, batch_size))
    raw_rate = len(sub) / t_raw
    rows = [{"texts": kind, "n": len(sub), "path": "raw sentence-transformers encode", "texts_per_s": round(raw_rate, 1),
             "speed_x": None, "nn10_shared": None, "mean_cosine": None}]
    ref = ref_nn = None
    st_rate = raw_rate
    for backend in BACKENDS:
        embed_with_backend(warm, DEFAULT_MODEL, FIELDS, backend, None, batch_size)  # load/export outside the timing
        (vecs, *_), t = timed(lambda: embed_with_backend(texts, DEFAULT_MODEL, FIELDS, backend, None, batch_size))
        if backend == "sentence-transformers":
            ref, ref_nn, st_rate = vecs, knn(vecs), len(texts) / t
            shared = cos = 1.0
        else:
            shared, cos = agreement(ref_nn, ref, vecs)
        rows.append({"texts": kind, "n": len(texts), "path": f"stage, backend={backend}",
                     "texts_per_s": round(len(texts) / t, 1), "speed_x": round(len(texts) / t / st_rate, 2),
                     "nn10_shared": round(shared, 4), "mean_cosine": round(cos, 4)})
    rows[0]["speed_x"] = round(raw_rate / st_rate, 2)
    return rows, ref, raw_rate


def sweep(kind: str, texts: list[str], ref: np.ndarray, raw_rate: float, batch_size: int, cache_dir: str,
          seq_lengths: list[int], recipes: list[str]) -> list[dict]:
    """Each recipe at the model's max_seq_length; with the default int8 recipe also the shorter lengths
    and batches in input order instead of length-sorted (what sorting saves in padding)."""
    ref_nn = knn(ref)
    rows = []
    model_dir = resolve_model_path(DEFAULT_MODEL)
    for name in recipes:
        variants = [(None, True)]
        if name == DEFAULT_INT8_RECIPE:
            variants += [(seq, True) for seq in seq_lengths] + [(None, False)]
        for seq, sort_batches in variants:
            emb = OnnxEmbedder(model_dir, name, cache_dir=cache_dir, seq_length=seq, sort_batches=sort_batches)
            emb.encode(texts[:batch_size], batch_size)
            vecs, t = timed(lambda: emb.encode(texts, batch_size))
            shared, cos = agreement(ref_nn, ref, vecs)
            rows.append({"texts": kind, "n": len(texts), "recipe": name + ("  (default onnx-int8)" if name == DEFAULT_INT8_RECIPE else ""),
                         "max_seq": seq or emb.max_seq_length, "batches": "length-sorted" if sort_batches else "input order",
                         "speed_x": round(len(texts) / t / raw_rate, 2),
                         "nn10_shared": round(shared, 4), "mean_cosine": round(cos, 4)})
    return rows


def gpu_figures(texts: list[str], batch_size: int) -> None:
    import torch

    if not torch.cuda.is_available():
        print("\n(GPU: torch.cuda.is_available() is False - no GPU figures)")
        return
    model = load_model(DEFAULT_MODEL, "cuda")
    embed_texts(model, texts[:batch_size], batch_size)
    torch.cuda.synchronize()
    _, t = timed(lambda: embed_texts(model, texts, batch_size))
    print(f"\nGPU ({torch.cuda.get_device_name()}): sentence-transformers {len(texts) / t:,.0f} texts/s "
          f"on {len(texts):,} texts")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, nargs="+", default=[5_000, 20_000], help="short-text sizes")
    ap.add_argument("--long-rows", type=int, nargs="+", default=None,
                    help="long-text sizes (default: same as --rows; ~16 texts/s with the transformer)")
    ap.add_argument("--quick", action="store_true",
                    help="1,000 short and 300 long texts; sweep of 6 recipes on 200 of each")
    ap.add_argument("--sweep-rows", type=int, default=1_000, help="texts of each kind in the recipe sweep (0: skip)")
    ap.add_argument("--seq-lengths", type=int, nargs="*", default=[128],
                    help="shorter max_seq_length to try with the default int8 recipe")
    ap.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--raw-rows", type=int, default=2_000, help="texts the raw encode is timed on (a)")
    ap.add_argument("--cache-dir", default=os.path.join("data", "models", "onnx"))
    args = ap.parse_args()
    if args.quick:
        args.rows, args.long_rows, args.sweep_rows = [1_000], [300], 200
        args.recipes = ["fp32", "int8-all", "int8-linear-pc", "int8-linear-pc-skip0", DEFAULT_INT8_RECIPE, "int8-ffn-pc"]
        print("--quick: 1,000 short + 300 long texts, sweep of 6 recipes on 200 of each; skipped: 5,000 and "
              "20,000 rows (20,000 long texts take ~20 min with the transformer alone on 2 cores) and recipes "
              f"{sorted(set(RECIPES) - set(args.recipes))}")
    long_rows = args.long_rows or args.rows
    os.environ["CURATION_DATA_DIR"] = os.environ.get("CURATION_DATA_DIR", "data")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    print(f"cpu threads: torch {torch.get_num_threads()}, onnxruntime {os.cpu_count()}; batch {args.batch_size}")
    results, refs = [], {}
    plan = sorted([(n, kind, make) for kind, sizes, make in (("short", args.rows, short_texts),
                                                             ("long", long_rows, long_texts)) for n in sizes],
                  key=lambda p: (p[0], p[1] != "short"))
    for n, kind, make in plan:
        texts = make(n)
        warm = make(64)
        t0 = time.perf_counter()
        rows, ref, raw = run_size(kind, texts, args.batch_size, warm, args.raw_rows)
        refs[kind] = (texts, ref, raw)
        results += rows
        print(f"\n== {kind} texts ({np.mean([len(t) for t in texts]):,.0f} chars on average), {n:,} "
              f"({time.perf_counter() - t0:,.0f} s)", flush=True)
        print(pd.DataFrame(rows).drop(columns=["texts"]).to_string(index=False), flush=True)
    print("\n== all sizes\n" + pd.DataFrame(results).to_string(index=False))
    if args.sweep_rows:
        sw = []
        for kind, (texts, ref, raw) in refs.items():
            m = min(args.sweep_rows, len(texts))
            # raw rate of the transformer on the same subset, for the ratio
            model = load_model()
            _, t = timed(lambda: embed_texts(model, texts[:m], args.batch_size))
            sw += sweep(kind, texts[:m], ref[:m], m / t, args.batch_size, args.cache_dir, args.seq_lengths,
                        args.recipes)
        print(f"\n== recipe trade-off (speed_x = texts/s / the transformer's on the same {args.sweep_rows:,} texts;"
              " nn10_shared is within those texts)")
        print(pd.DataFrame(sw).to_string(index=False))
    gpu_figures(refs["short"][0], args.batch_size)


if __name__ == "__main__":
    main()
