"""Renders chat prompts with Hugging Face transformers, for the test that compares era's renderer.

Usage: python chat_template_reference.py DIR < cases.json, where DIR holds tokenizer.json and
tokenizer_config.json and each case is {"system": TEXT or null, "user": TEXT}. Prints a JSON list:
per case, apply_chat_template(messages, tokenize=False, add_generation_prompt=True), or
{"error": MESSAGE} where the template raised.
"""

import json
import sys

from transformers import AutoTokenizer


def main():
    tokenizer = AutoTokenizer.from_pretrained(sys.argv[1], local_files_only=True)
    out = []
    for case in json.load(sys.stdin):
        messages = ([{"role": "system", "content": case["system"]}] if case["system"] is not None else [])
        messages.append({"role": "user", "content": case["user"]})
        try:
            out.append(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        except Exception as e:  # the template's raise_exception, as the test expects for some cases
            out.append({"error": str(e)})
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
