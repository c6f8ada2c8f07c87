"""Reference embedder: all-MiniLM-L6-v2 on ONNX Runtime, from the same safetensors weights Folio
loads. The BERT graph is written out here with the onnx helpers (no PyTorch needed), then run
with ONNX Runtime at a fixed thread count.

    python embed_onnx.py --model DIR --texts chunks.json --batch 8 --threads 2

Prints one JSON object: {"items", "seconds", "per_second", "threads", "batch"}. With --vectors
OUT it also writes the embeddings of the texts (for checking them against Folio's).
"""

import argparse
import json
import math
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model, as in Folio


def build_graph(weights, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = config.get("layer_norm_eps", 1e-12)
    nodes, inits, names = [], [], set()

    def const(name, array):
        if name not in names:
            names.add(name)
            inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def w(name):
        return const(name, weights[name])

    def node(op, inputs, output, **attrs):
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def linear(x, prefix, out):
        weight_t = const(prefix + ".weight_t", weights[prefix + ".weight"].T.copy())
        y = node("MatMul", [x, weight_t], out + "_mm")
        return node("Add", [y, w(prefix + ".bias")], out)

    def layer_norm(x, prefix, out):
        return node("LayerNormalization", [x, w(prefix + ".weight"), w(prefix + ".bias")], out,
                    axis=-1, epsilon=eps)

    # Embeddings: words + positions + token types, normalised.
    seq_len = node("Gather", [node("Shape", ["input_ids"], "ids_shape"), const("one", np.array(1, np.int64))],
                   "seq_len")
    positions = node("Range", [const("zero", np.array(0, np.int64)), seq_len, "one"], "positions")
    x = node("Add", [node("Gather", [w("embeddings.word_embeddings.weight"), "input_ids"], "e_words"),
                     node("Gather", [w("embeddings.position_embeddings.weight"), positions], "e_pos")], "e_sum1")
    x = node("Add", [x, node("Gather", [w("embeddings.token_type_embeddings.weight"), "token_type_ids"],
                             "e_types")], "e_sum")
    x = layer_norm(x, "embeddings.LayerNorm", "h0")

    # Additive attention mask: 0 for tokens, -10000 for padding, shaped (batch, 1, 1, seq).
    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    mask_4d = node("Unsqueeze", [mask_f, const("axes_12", np.array([1, 2], np.int64))], "mask_4d")
    mask_bias = node("Mul", [node("Sub", [const("one_f", np.array(1.0, np.float32)), mask_4d], "mask_inv"),
                             const("neg", np.array(-10000.0, np.float32))], "mask_bias")

    split_shape = const("split_shape", np.array([0, 0, heads, head_dim], np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, hidden], np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q = linear(x, f"{p}.attention.self.query", f"l{i}_q")
        k = linear(x, f"{p}.attention.self.key", f"l{i}_k")
        v = linear(x, f"{p}.attention.self.value", f"l{i}_v")
        q = node("Transpose", [node("Reshape", [q, split_shape], f"l{i}_qr")], f"l{i}_qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, split_shape], f"l{i}_kr")], f"l{i}_kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, split_shape], f"l{i}_vr")], f"l{i}_vt", perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k], f"l{i}_qk"), scale], f"l{i}_qks"), mask_bias],
                      f"l{i}_scores")
        probs = node("Softmax", [scores], f"l{i}_probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"l{i}_ctx")], f"l{i}_ctxt", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape], f"l{i}_ctxm")
        attn = linear(ctx, f"{p}.attention.output.dense", f"l{i}_attn")
        x = layer_norm(node("Add", [x, attn], f"l{i}_res1"), f"{p}.attention.output.LayerNorm", f"l{i}_h1")
        h = linear(x, f"{p}.intermediate.dense", f"l{i}_up")
        # Exact (erf) GELU, as BERT uses.
        h = node("Mul", [node("Mul", [h, const("half", np.array(0.5, np.float32))], f"l{i}_hh"),
                         node("Add", [const("one_f2", np.array(1.0, np.float32)),
                                      node("Erf", [node("Div", [h, const("sqrt2", np.array(math.sqrt(2), np.float32))],
                                                        f"l{i}_hd")], f"l{i}_erf")], f"l{i}_erf1")], f"l{i}_gelu")
        out = linear(h, f"{p}.output.dense", f"l{i}_down")
        x = layer_norm(node("Add", [x, out], f"l{i}_res2"), f"{p}.output.LayerNorm", f"l{i}_h2")

    # Mean pooling over real tokens, then L2 normalisation.
    mask_3d = node("Unsqueeze", [mask_f, const("axis_2", np.array([2], np.int64))], "mask_3d")
    axis_1 = const("axis_1", np.array([1], np.int64))
    summed = node("ReduceSum", [node("Mul", [x, mask_3d], "masked"), axis_1], "summed", keepdims=0)
    counts = node("Max", [node("ReduceSum", [mask_3d, axis_1], "counts0", keepdims=0),
                          const("tiny", np.array(1e-9, np.float32))], "counts")
    mean = node("Div", [summed, counts], "mean")
    norm = node("Max", [node("Sqrt", [node("ReduceSum", [node("Mul", [mean, mean], "sq"), axis_1], "ss",
                                           keepdims=1)], "norm0"),
                        const("tiny2", np.array(1e-12, np.float32))], "norm")
    node("Div", [mean, norm], "embeddings")

    ids = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
    graph = helper.make_graph(
        nodes, "minilm",
        [ids("input_ids"), ids("attention_mask"), ids("token_type_ids")],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every ONNX Runtime from 1.14 on
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="folder with model.safetensors, config.json, tokenizer.json")
    parser.add_argument("--texts", required=True, help="JSON array of strings")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--vectors", help="write the embeddings here (JSON)")
    args = parser.parse_args()

    config = json.load(open(f"{args.model}/config.json"))
    model = build_graph(load_file(f"{args.model}/model.safetensors"), config)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])

    tokenizer = Tokenizer.from_file(f"{args.model}/tokenizer.json")
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()
    texts = json.load(open(args.texts))

    def embed(batch):
        enc = tokenizer.encode_batch(batch)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.int64)
        return session.run(None, {"input_ids": ids, "attention_mask": mask,
                                  "token_type_ids": np.zeros_like(ids)})[0]

    embed(texts[:1])  # warm-up, as Folio's measurement does
    # Same batching as Folio: similar lengths together (less padding), fixed batch size.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = [None] * len(texts)
    started = time.perf_counter()
    for start in range(0, len(order), 64):
        round_ids = order[start:start + 64]
        for b in range(0, len(round_ids), args.batch):
            part = round_ids[b:b + args.batch]
            for i, v in zip(part, embed([texts[i] for i in part])):
                vectors[i] = v
    seconds = time.perf_counter() - started
    if args.vectors:
        json.dump([v.tolist() for v in vectors], open(args.vectors, "w"))
    print(json.dumps({"items": len(texts), "seconds": seconds, "per_second": len(texts) / seconds,
                      "threads": args.threads, "batch": args.batch}))


if __name__ == "__main__":
    main()
