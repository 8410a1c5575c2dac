"""The vLLM planner against a fake OpenAI-compatible server on 127.0.0.1 (and a real one, if given)."""

from __future__ import annotations

import json
import os
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from generators.constrained import LeadSheetGrammar
from generators.llm_planner import song_frame
from generators.vllm_client import VLLMPlanner, build_request, event_regex, parse_completion
from pipeline import SongSpec
from representations.errors import BackendUnavailable, SongwrightError
from test_neural_llm import SPEC, check_fits


def sample_regex(pattern: str, rng: random.Random) -> str:
    """A random string matching ``pattern``, written with only escaped literals and (?:a|b) groups."""
    pos = 0

    def seq() -> str:
        nonlocal pos
        out = []
        while pos < len(pattern) and pattern[pos] not in "|)":
            if pattern.startswith("(?:", pos):
                pos += 3
                alts = [seq()]
                while pattern[pos] == "|":
                    pos += 1
                    alts.append(seq())
                pos += 1  # ")"
                out.append(rng.choice(alts))
            elif pattern[pos] == "\\":
                out.append(pattern[pos + 1])
                pos += 2
            else:
                out.append(pattern[pos])
                pos += 1
        return "".join(out)

    # every alternative is generated (and one chosen) so that parsing stays in step
    return seq()


class FakeVLLM(ThreadingHTTPServer):
    """Answers /v1/models and /v1/completions; a completion is a random string of the request's regex."""

    def __init__(self, *, api="structured_outputs", garbage=False):
        self.requests, self.api, self.garbage, self.rng = [], api, garbage, random.Random(0)
        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, body: dict, code: int = 200):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send({"object": "list", "data": [{"id": "leadsheet-llm", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        regex = body["structured_outputs"]["regex"] if self.server.api == "structured_outputs" else body["guided_regex"]
        text = "PITCH_1000 " if self.server.garbage else sample_regex(regex, self.server.rng)
        assert self.server.garbage or re.fullmatch(regex, text), (regex, text)
        self._send({"id": "cmpl-1", "object": "text_completion", "model": body["model"],
                    "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]})


@pytest.fixture
def server(request):
    srv = FakeVLLM(**getattr(request, "param", {}))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def spec():
    return SongSpec.from_text(SPEC, source="vllm.yaml")


def test_request_building_and_response_parsing():
    body = build_request("Tokens:\nBOS ", "(?:SYL |POS_0 )", model="m", seed=7, temperature=0.8)
    assert body["structured_outputs"] == {"regex": "(?:SYL |POS_0 )"} and "guided_regex" not in body
    assert body["model"] == "m" and body["seed"] == 7 and body["max_tokens"] > 0 and body["prompt"].endswith("BOS ")
    old = build_request("p", "x", model="m", seed=1, temperature=1.0, api="guided")
    assert old["guided_regex"] == "x" and "structured_outputs" not in old
    assert parse_completion({"choices": [{"text": "SYL "}]}) == "SYL "
    with pytest.raises(ValueError, match="not a completions response"):
        parse_completion({"error": "boom"})


def test_event_regex_matches_exactly_the_allowed_events(spec):
    frame = song_frame(spec, seed=0)
    grammar = LeadSheetGrammar(frame.skeleton)
    st = grammar.run([grammar.v[t] for t in ["SECTION_intro", "BAR"]])
    rx = event_regex(grammar, st)
    allowed_chords = {grammar.v.tokens[t] for t in grammar.chord_ids}
    for tok in (t for t in grammar.v.tokens if t.startswith("CHORD_")):
        assert bool(re.fullmatch(rx, tok + " ")) == (tok in allowed_chords)


@pytest.mark.parametrize("server", [{"api": "structured_outputs"}, {"api": "guided"}], indirect=True)
def test_plan_through_a_server_fits_the_lyrics(server, spec):
    planner = VLLMPlanner(base_url=server.url, api=server.api)
    sheet = planner.plan(spec, seed=3)
    check_fits(sheet, song_frame(spec, seed=3))
    assert planner.requests == len(server.requests) > 10
    assert {r["model"] for r in server.requests} == {"leadsheet-llm"}
    assert server.requests[0]["prompt"].startswith("Lead sheet for: Grammar Song")
    again = VLLMPlanner(base_url=server.url, api=server.api)
    server.rng.seed(0)
    first_seeds = [r["seed"] for r in server.requests]
    server.requests.clear()
    again.plan(spec, seed=3)
    assert [r["seed"] for r in server.requests] == first_seeds  # seeds depend on the song seed only


@pytest.mark.parametrize("server", [{"garbage": True}], indirect=True)
def test_server_that_ignores_guidance_is_reported(server, spec):
    with pytest.raises(SongwrightError, match="not an allowed event"):
        VLLMPlanner(base_url=server.url).plan(spec, seed=0)


def test_no_server_and_remote_servers(spec, monkeypatch):
    import socket

    with socket.socket() as s:  # a free port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="no vLLM server at http://127.0.0.1"):
        VLLMPlanner(base_url=f"http://127.0.0.1:{port}/v1").plan(spec, seed=0)
    with pytest.raises(BackendUnavailable, match="not on this machine"):
        VLLMPlanner(base_url="http://example.com:8000/v1").plan(spec, seed=0)
    monkeypatch.setenv("SONGWRIGHT_VLLM_URL", "http://10.0.0.1:8000/v1")
    with pytest.raises(BackendUnavailable, match="not on this machine"):
        VLLMPlanner().check()


@pytest.mark.skipif(not os.environ.get("SONGWRIGHT_VLLM_URL"), reason="no running vllm serve (set SONGWRIGHT_VLLM_URL)")
def test_real_vllm_server(spec):
    check_fits(VLLMPlanner().plan(spec, seed=0), song_frame(spec, seed=0))
