#!/usr/bin/python3
"""Write a tiny random-weight llama GGUF for integration tests.

No pretrained weights are reachable here, so the model takes its tokenizer from llama.cpp's
vocab-only test model and fills a 2-layer, 64-wide transformer with seeded random numbers.
It answers gibberish quickly; grammar/JSON-schema constrained decoding still yields valid output.
Usage: make-test-gguf.py --gguf-py DIR --vocab VOCAB.gguf --out MODEL.gguf
"""
import argparse
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf-py", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--embd", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ff", type=int, default=128)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    sys.path.insert(0, a.gguf_py)
    import numpy as np
    import gguf

    reader = gguf.GGUFReader(a.vocab)
    fields = reader.fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    n_vocab = len(tokens)
    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name("fewshot-random-test")
    w.add_context_length(a.ctx)
    w.add_embedding_length(a.embd)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.ff)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(a.embd // a.heads)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model(fields["tokenizer.ggml.model"].contents())
    if "tokenizer.ggml.pre" in fields:
        w.add_tokenizer_pre(fields["tokenizer.ggml.pre"].contents())
    w.add_token_list(tokens)
    w.add_token_scores(fields["tokenizer.ggml.scores"].contents())
    w.add_token_types(fields["tokenizer.ggml.token_type"].contents())
    w.add_bos_token_id(fields["tokenizer.ggml.bos_token_id"].contents())
    w.add_eos_token_id(fields["tokenizer.ggml.eos_token_id"].contents())
    w.add_unk_token_id(fields["tokenizer.ggml.unknown_token_id"].contents())
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    # A plain chat template so /v1/chat/completions works without a model-specific one. It has
    # no generation prompt: llama-server feeds a generation prompt to the JSON-schema grammar,
    # and with this SPM vocabulary its first token ("▁<", "▁a", ...) is skipped and
    # the grammar then refuses the rest ("Failed to initialize samplers").
    w.add_chat_template(
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")

    rng = np.random.default_rng(a.seed)

    def rand(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    e, f = a.embd, a.ff
    w.add_tensor("token_embd.weight", rand(n_vocab, e))
    w.add_tensor("output_norm.weight", np.ones(e, dtype=np.float32))
    w.add_tensor("output.weight", rand(n_vocab, e))
    for i in range(a.layers):
        p = "blk.%d." % i
        w.add_tensor(p + "attn_norm.weight", np.ones(e, dtype=np.float32))
        w.add_tensor(p + "attn_q.weight", rand(e, e))
        w.add_tensor(p + "attn_k.weight", rand(e, e))
        w.add_tensor(p + "attn_v.weight", rand(e, e))
        w.add_tensor(p + "attn_output.weight", rand(e, e))
        w.add_tensor(p + "ffn_norm.weight", np.ones(e, dtype=np.float32))
        w.add_tensor(p + "ffn_gate.weight", rand(f, e))
        w.add_tensor(p + "ffn_up.weight", rand(f, e))
        w.add_tensor(p + "ffn_down.weight", rand(e, f))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
