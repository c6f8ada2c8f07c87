"""Reference generator: llama.cpp (llama-cpp-python) on the same GGUF file, the same prompt and
the same thread count as `folio bench generate`.

    python generate_llama.py --model FILE.gguf --prompt prompt.txt --max-tokens 64 --repeats 3 --threads 2

Measured as Folio measures itself: time to first streamed text (TTFT), prefill = prompt tokens
/ TTFT, decode = (completion tokens - 1) / (time after the first). Each run starts the message
with its number ("(Run i.) ...") so no prompt prefix is reused from the previous run.
"""

import argparse
import json
import time

from llama_cpp import Llama, llama_cpp


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--context", type=int, default=4096)
    args = parser.parse_args()
    prompt = open(args.prompt).read()

    started = time.perf_counter()
    llm = Llama(model_path=args.model, n_ctx=args.context, n_batch=512, n_threads=args.threads,
                n_threads_batch=args.threads, verbose=False)
    load_ms = (time.perf_counter() - started) * 1000

    runs = []
    for i in range(args.repeats + 1):
        llm.reset()
        messages = [{"role": "user", "content": f"(Run {i}.) {prompt}"}]
        started = time.perf_counter()
        first = None
        for chunk in llm.create_chat_completion(messages=messages, max_tokens=args.max_tokens,
                                                temperature=0.0, stream=True):
            delta = chunk["choices"][0].get("delta", {})
            if delta.get("content") and first is None:
                first = time.perf_counter()
        total = time.perf_counter() - started
        perf = llama_cpp.llama_perf_context(llm._ctx.ctx)
        prompt_tokens, completion_tokens = int(perf.n_p_eval), int(perf.n_eval) + 1
        llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
        if i == 0:
            continue  # warm-up
        ttft = (first or time.perf_counter()) - started
        runs.append({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "time_to_first_token_ms": ttft * 1000,
            "total_ms": total * 1000,
            "prefill_tokens_per_second": prompt_tokens / max(ttft, 1e-9),
            "decode_tokens_per_second": (completion_tokens - 1) / max(total - ttft, 1e-9),
        })
    print(json.dumps({"model": args.model, "load_ms": load_ms, "threads": args.threads, "runs": runs}))


if __name__ == "__main__":
    main()
