"""The ``"vllm"`` planner: lead-sheet tokens from a running ``vllm serve``, event by event.

vLLM itself is an optional extra (a CUDA-only wheel); this client needs only the standard
library. It speaks the OpenAI-compatible completions API of a server the user started, e.g.
``vllm serve /data/leadsheet-llm --port 8000``, and sends one request per musical event (a note,
or a bar change with its chord). Each request carries, as guided decoding, a regular expression
matching exactly the events the lead-sheet grammar allows next (``structured_outputs: {regex}``,
or ``guided_regex`` for servers before vLLM 0.12), and the answer is checked against the same
grammar, so the song always parses and fits the lyrics.

The server address comes from the constructor, the spec's ``models: {vllm: URL}``,
``$SONGWRIGHT_VLLM_URL`` or the models config file (key ``vllm``); default
``http://127.0.0.1:8000/v1``. Only loopback addresses are used unless ``allow_remote=True``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request

from representations.errors import BackendUnavailable, SongwrightError
from representations.leadsheet import LeadSheet

from .base import PLANNERS, Planner
from .constrained import LeadSheetGrammar, State

DEFAULT_URL = "http://127.0.0.1:8000/v1"
URL_ENV = "SONGWRIGHT_VLLM_URL"
APIS = ("structured_outputs", "guided")
MAX_EVENT_TOKENS = 64


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_request(prompt: str, regex: str, *, model: str, seed: int, temperature: float,
                  api: str = "structured_outputs", max_tokens: int = MAX_EVENT_TOKENS) -> dict:
    """The JSON body of one ``/completions`` request constrained to ``regex``."""
    if api not in APIS:
        raise ValueError(f"vllm api {api!r} is not valid (valid: {', '.join(APIS)})")
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": temperature,
            "seed": seed, "n": 1, "stream": False}
    if api == "structured_outputs":
        body["structured_outputs"] = {"regex": regex}
    else:
        body["guided_regex"] = regex
    return body


def parse_completion(body: dict) -> str:
    """The text of the first choice of a ``/completions`` response; ValueError if there is none."""
    try:
        text = body["choices"][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"not a completions response: {json.dumps(body)[:200]}") from None
    if not isinstance(text, str):
        raise ValueError(f"completion text is {type(text).__name__}, not text")
    return text


def song_prompt(frame, tokens: list[str]) -> str:
    """The text prompt: what the song is, then the tokens written so far (each followed by a space)."""
    sk = frame.skeleton
    head = [f"Lead sheet for: {frame.title}", f"Style: {', '.join(frame.style_tags) or sk.genre}",
            f"Key {sk.key}; meter {sk.meter}; tempo {sk.tempo_bpm:g} BPM", "Lyrics:"]
    for i, line in enumerate(frame.lines):
        head.append(f"{i + 1}. {line.text} ({'-'.join(s.text for s in line.syllables)})")
    return "\n".join(head) + "\nTokens:\n" + "".join(t + " " for t in tokens)


class VLLMClient:
    """A minimal client of one OpenAI-compatible server (no proxies, JSON over HTTP)."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0, allow_remote: bool = False):
        if not base_url.startswith(("http://", "https://")):
            raise BackendUnavailable(f"vllm planner: server URL {base_url!r} is not valid (valid: http://HOST:PORT/v1)")
        if not allow_remote and not is_loopback(base_url):
            raise BackendUnavailable(f"vllm planner: server {base_url} is not on this machine; only loopback "
                                     f"addresses are used unless allow_remote=True")
        self.base_url, self.timeout_s = base_url.rstrip("/"), timeout_s
        self._open = urllib.request.build_opener(urllib.request.ProxyHandler({})).open

    def _call(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
        try:
            with self._open(req, timeout=self.timeout_s) as r:
                return json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")[:300]
            raise SongwrightError(f"vllm planner: {self.base_url}{path} answered HTTP {e.code}: "
                                  f"{' '.join(detail.split())}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise BackendUnavailable(f"vllm planner: no vLLM server at {self.base_url} ({reason}); start one with "
                                     f"'vllm serve CHECKPOINT' or set models: {{vllm: URL}}") from None

    def models(self) -> list[str]:
        return [m["id"] for m in self._call("/models").get("data", [])]

    def complete(self, body: dict) -> str:
        return parse_completion(self._call("/completions", body))


def event_regex(grammar: LeadSheetGrammar, st: State) -> str:
    """A regular expression matching exactly the texts of the allowed next event from ``st``:
    a note (``"SYL POS_0 PITCH_67 DUR_4 "``), a bar change with its chord, or ``"EOS "``.
    Each token text is followed by one space."""
    if st.phase == "done":
        return re.escape("EOS ")
    memo: dict[State, str] = {}

    def rx(s: State, first: bool) -> str:
        if not first and s.phase in ("event", "done"):
            return ""
        if s in memo:
            return memo[s]
        groups: dict[str, list[str]] = {}
        for tok in grammar.allowed(s):
            sub = rx(grammar.advance(s, tok), False)
            groups.setdefault(sub, []).append(re.escape(grammar.v.tokens[tok] + " "))
        parts = [_alt(texts) + sub for sub, texts in groups.items()]
        memo[s] = out = _alt(parts)
        return out

    return rx(st, True)


def _alt(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def split_event(grammar: LeadSheetGrammar, st: State, text: str) -> tuple[list[int], State]:
    """Token ids of one event's ``text`` and the state after them; ``ValueError`` if not allowed."""
    ids = []
    for word in text.split():
        if word not in grammar.v.index:
            raise ValueError(f"{word!r} is not a lead-sheet token")
        st = grammar.advance(st, grammar.v.index[word])
        ids.append(grammar.v.index[word])
    return ids, st


def _server_url(models: dict | None) -> str:
    if models and "vllm" in models:
        return str(models["vllm"])
    if os.environ.get(URL_ENV):
        return os.environ[URL_ENV]
    from pipeline.models import read_config

    return str(read_config().get("vllm", DEFAULT_URL))


@PLANNERS.register("vllm")
class VLLMPlanner(Planner):
    """Plans lead sheets with a model served by vLLM, under the lead-sheet grammar.

    Parameters
    ----------
    base_url : str, optional
        The server's API root (``http://127.0.0.1:8000/v1``); see the module docstring.
    model : str, optional
        The served model name (default: the server's first).
    api : str
        ``"structured_outputs"`` (vLLM >= 0.12) or ``"guided"`` (``guided_regex``, older servers).
    """

    name = "vllm"

    def __init__(self, *, base_url: str | None = None, model: str | None = None, models: dict | None = None,
                 base_dir=None, api: str = "structured_outputs", temperature: float = 1.0, max_melisma: int = 2,
                 timeout_s: float = 120.0, allow_remote: bool = False):
        if api not in APIS:
            raise ValueError(f"vllm api {api!r} is not valid (valid: {', '.join(APIS)})")
        self.base_url, self.model, self.models = base_url, model, models
        self.api, self.temperature, self.max_melisma = api, temperature, max_melisma
        self.timeout_s, self.allow_remote = timeout_s, allow_remote
        self.requests = 0

    def client(self, spec=None) -> VLLMClient:
        models = dict(self.models or {}) | dict(getattr(spec, "models", None) or {})
        url = self.base_url or _server_url(models)
        return VLLMClient(url, timeout_s=self.timeout_s, allow_remote=self.allow_remote)

    def check(self) -> str:
        c = self.client()
        names = c.models()
        return f"server {c.base_url} serving {', '.join(names) or 'no model'}"

    def plan(self, spec, *, seed: int) -> LeadSheet:
        """The lead sheet of ``spec``, one constrained request per event."""
        from .llm_planner import song_frame

        frame = song_frame(spec, seed=seed)
        client = self.client(spec)
        model = self.model or next(iter(client.models()), None)
        if model is None:
            raise BackendUnavailable(f"vllm planner: the server at {client.base_url} serves no model")
        grammar = LeadSheetGrammar(frame.skeleton, max_melisma=self.max_melisma)
        tokens = frame.prompt()
        st = grammar.start()
        k = 0
        while st.phase != "done":
            forced = _forced_event(grammar, st)
            if forced is not None:
                words, st = forced
            else:
                regex = event_regex(grammar, st)
                body = build_request(song_prompt(frame, tokens), regex, model=model, seed=seed * 1_000_003 + k,
                                     temperature=self.temperature, api=self.api)
                text = client.complete(body)
                self.requests += 1
                k += 1
                try:
                    ids, st = split_event(grammar, st, text)
                    if st.phase not in ("event", "done") or not ids:
                        raise ValueError("incomplete event")
                except ValueError as e:
                    raise SongwrightError(f"vllm planner: the server at {client.base_url} answered {text[:80]!r}, "
                                          f"not an allowed event ({e}); does it support guided decoding "
                                          f"(api={self.api!r})?") from None
                words = grammar.v.texts(ids)
            tokens += words
        return frame.lead_sheet(tokens)


def _forced_event(grammar: LeadSheetGrammar, st: State):
    """The next event's words and state when the grammar leaves no choice, else None."""
    words = []
    while True:
        allowed = grammar.allowed(st)
        if len(allowed) != 1:
            return None
        st = grammar.advance(st, allowed[0])
        words.append(grammar.v.tokens[allowed[0]])
        if st.phase in ("event", "done"):
            return words, st
