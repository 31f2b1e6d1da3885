#!/usr/bin/env python3
"""Checks `fable serve` with the official `openai` Python client (opt-in; not run by CI).

    pip install openai
    python3 Scripts/serve/openai_client_check.py --url http://127.0.0.1:8080
    python3 Scripts/serve/openai_client_check.py --fable .build/debug/fable \
        --checkpoint runs/small/checkpoints/latest.safetensors [--tokenizer tok/]

With --fable the script starts the server itself on a free port (and stops it with
SIGTERM). It exercises models.list, completions and chat completions, whole and streamed,
checks that a seeded request gives the same text both ways and that a bad request raises
the client's BadRequestError. Exits non-zero on the first failure.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server_process import FableServer  # noqa: E402


def check(condition, message):
    if not condition:
        raise SystemExit("FAIL: " + message)
    print("ok:", message)


def run_checks(url):
    import openai

    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=120)
    models = client.models.list()
    model = models.data[0].id
    check(len(models.data) == 1, f"models.list names one model ({model})")

    whole = client.completions.create(model=model, prompt="Once upon a time", max_tokens=24, seed=7, temperature=0.8)
    check(whole.object == "text_completion" and whole.choices[0].finish_reason in ("stop", "length"),
          "completions.create: " + repr(whole.choices[0].text[:60]))
    check(whole.usage.completion_tokens > 0 and whole.usage.prompt_tokens > 0, f"usage {whole.usage}")

    pieces = []
    finish = None
    usage = None
    for chunk in client.completions.create(model=model, prompt="Once upon a time", max_tokens=24, seed=7,
                                           temperature=0.8, stream=True, stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.text)
            finish = choice.finish_reason or finish
    check("".join(pieces) == whole.choices[0].text, f"streamed completion equals the whole one ({len(pieces)} chunks)")
    check(finish == whole.choices[0].finish_reason, "same finish_reason streamed")
    check(usage is not None and usage.completion_tokens == whole.usage.completion_tokens, "stream usage chunk")

    several = client.completions.create(model=model, prompt="The", max_tokens=8, seed=3, n=3)
    check([c.index for c in several.choices] == [0, 1, 2], "n=3 gives three choices")

    chat = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Tell me a story."}],
                                          max_tokens=32, seed=11)
    check(chat.choices[0].message.role == "assistant", "chat.completions.create: " + repr(chat.choices[0].message.content[:60]))
    streamed = []
    for chunk in client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Tell me a story."}],
                                                max_tokens=32, seed=11, stream=True):
        for choice in chunk.choices:
            if choice.delta.content:
                streamed.append(choice.delta.content)
    check("".join(streamed) == chat.choices[0].message.content, "streamed chat equals the whole one")

    try:
        client.completions.create(model=model, prompt="x", temperature=5)
        check(False, "temperature 5 is refused")
    except openai.BadRequestError as error:
        check(error.status_code == 400 and "temperature" in str(error), "temperature 5 raises BadRequestError")
    print("all checks passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server's base URL")
    parser.add_argument("--fable", help="the fable binary, to start a server")
    parser.add_argument("--checkpoint")
    parser.add_argument("--tokenizer")
    args = parser.parse_args()
    if args.url:
        run_checks(args.url.rstrip("/"))
    elif args.fable and args.checkpoint:
        with FableServer(args.fable, args.checkpoint, args.tokenizer) as server:
            run_checks(server.url)
    else:
        parser.error("give --url, or --fable and --checkpoint")


if __name__ == "__main__":
    main()
