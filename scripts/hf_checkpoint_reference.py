"""Reads a checkpoint directory written by era with Hugging Face transformers and safetensors, for
the test that checks they recognise it.

Usage: python hf_checkpoint_reference.py DIR. Prints JSON: the config as transformers' AutoConfig
parsed it, every tensor's shape as the safetensors library reads it (through the shard index when
there is one), and the chat prompt AutoTokenizer renders for one user turn.
"""

import json
import os
import sys

from safetensors import safe_open
from transformers import AutoConfig, AutoTokenizer


def main():
    d = sys.argv[1]
    config = AutoConfig.from_pretrained(d, local_files_only=True)
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        with safe_open(os.path.join(d, name), framework="numpy") as f:
            for key in f.keys():
                tensors[key] = list(f.get_slice(key).get_shape())
    tokenizer = AutoTokenizer.from_pretrained(d, local_files_only=True)
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "1+1"}], tokenize=False, add_generation_prompt=True)
    fields = ["model_type", "architectures", "hidden_act", "vocab_size", "hidden_size", "intermediate_size",
              "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
              "rms_norm_eps", "tie_word_embeddings", "eos_token_id"]
    out = {"config": {k: getattr(config, k, None) for k in fields}, "tensors": tensors, "chat": chat,
           "rope_theta": (getattr(config, "rope_parameters", None) or {}).get("rope_theta", getattr(config, "rope_theta", None))}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
