"""Experiment (not shipped): Kokoro's vocoder replaced by a small network that predicts the
singer's WORLD features from the features the vocoder is fed.

The generator (iSTFTNet) is 91.5% of Kokoro's time, and the singer only needs the speech's
spectral envelope, aperiodicity and voicing. The model is cut after the decoder's ``decode``
blocks (a rewrite of its bytes: onnxruntime runs the whole graph even when asked for an earlier
tensor), and a network maps the 512 features (80 frames a second) and the F0 curve to the
log envelope at 64 mel points, aperiodicity at 16 and voicing, every 12.5 ms. Judged by
re-synthesising each line with WORLD and singing the ballad from it: the baritone missed 16% of
the syllables against 8% from Kokoro's own audio (benchmarks/FINDINGS.md, "Where Kokoro's
time goes").

Run (2 cores: data about 1.5 s a line, training about 15 minutes, judging about 25 s a song):
  .venv/bin/python benchmarks/kokoro_envelope.py data --lines 1000
  .venv/bin/python benchmarks/kokoro_envelope.py train --steps 6000
  .venv/bin/python benchmarks/kokoro_envelope.py judge --from network|analysis --voices joe,alto

Also: the generator alone, fed fewer frames than the line has (the front of the model gives
them in 0.10 s a line), to see what leaving them out costs the words ("The generator fed fewer
frames" in FINDINGS):
  .venv/bin/python benchmarks/kokoro_envelope.py judge --from generator --drop padding:8|vowels|vowel-middles
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
BUILD = ROOT / "build" / "kokoro-envelope"
FEATURES = b"/decoder/decoder/decode.3/Div_4_output_0"  # what the generator is fed, (1, 512, 2 × frames)
F0_CURVE = b"/decoder/decoder/Unsqueeze_output_0"  # the F0 the generator is fed, (1, 1, 2 × frames)
DURATIONS = b"/encoder/Clip_output_0"  # frames of each token
FRAME_S = 0.0125  # 300 samples at 24 kHz: one feature frame
WORK_RATE = 22050
MEL = 700 * (10 ** (np.linspace(0, 2595 * np.log10(1 + WORK_RATE / 2 / 700), 64) / 2595) - 1)
AP_MEL = MEL[::4]
FREQ = np.linspace(0, WORK_RATE / 2, 513)
FLOOR = -17.0  # ln power: silence below this does not steer the loss


# ---- the cut model ------------------------------------------------------------------------------
def onnx_cut(model: bytes, outputs: list[bytes], inputs: tuple[bytes, ...] = ()) -> bytes | None:
    """``model`` computing only ``outputs``: the nodes and initializers they need, nothing after;
    the tensors named in ``inputs`` (float) are fed instead of computed, nothing before them."""
    from voice.onnx_graph import _encode_varint, _fields, _length_delimited

    graphs = [(s, e) for n, w, s, e in _fields(model, 0, len(model)) if n == 7 and w == 2]
    if len(graphs) != 1:
        return None
    gs, ge = graphs[0]
    fields = list(_fields(model, gs, ge))
    if any(w != 2 for _, w, _, _ in fields):
        return None
    nodes = {}
    for k, (n, _, s, e) in enumerate(fields):
        if n == 1:  # NodeProto: input 1, output 2, op_type 4
            parts = collections.defaultdict(list)
            for nn, _, ns, ne in _fields(model, s, e):
                parts[nn].append(model[ns:ne])
            nodes[k] = (parts[1], parts[2], (parts[4] or [b""])[0])
    need, keep = set(outputs), set()
    for k in sorted(nodes, reverse=True):  # nodes are in topological order
        ins, outs, op = nodes[k]
        if need.intersection(outs) and not set(inputs).intersection(outs):
            if op in (b"If", b"Loop", b"Scan"):
                return None  # their subgraphs may read names of this one
            keep.add(k)
            need.update(ins)
    body = bytearray()
    for k, (n, _, s, e) in enumerate(fields):
        if (n == 1 and k not in keep) or n == 12:
            continue
        if n == 5 and next((model[ns:ne] for nn, _, ns, ne in _fields(model, s, e) if nn == 8), None) not in need:
            continue  # an initializer (TensorProto.name is field 8) nothing kept reads
        if n == 11 and next((model[ns:ne] for nn, _, ns, ne in _fields(model, s, e) if nn == 1), None) not in need:
            continue  # a graph input (ValueInfoProto.name is field 1) nothing kept reads
        body += _length_delimited(n, model[s:e])
    tensor_type = _length_delimited(1, _encode_varint(1 << 3) + _encode_varint(1))  # TypeProto: elem_type FLOAT
    for i in inputs:
        body += _length_delimited(11, _length_delimited(1, i) + _length_delimited(2, tensor_type))
    for o in outputs:
        body += _length_delimited(12, _length_delimited(1, o))
    start = gs - 1 - len(_encode_varint(ge - gs))  # the graph field's key (one byte) and length
    return model[:start] + _length_delimited(7, bytes(body)) + model[ge:]


@functools.lru_cache(maxsize=2)
def session(cut: bool):
    """Kokoro with the generator's inputs as outputs: cut after them, or whole (audio first)."""
    from voice.kokoro import model_bytes
    from voice.onnx_graph import onnx_with_outputs

    model = model_bytes()
    names = [FEATURES, F0_CURVE, DURATIONS]
    return _session(onnx_cut(model, names) if cut else onnx_with_outputs(model, names))


@functools.lru_cache(maxsize=1)
def generator_session():
    """The generator alone: the features and F0 curve (and the style) in, the audio out."""
    from voice.kokoro import model_bytes

    return _session(onnx_cut(model_bytes(), [b"audio"], inputs=(FEATURES, F0_CURVE)))


def _session(model: bytes):
    from voice.speech import onnx_session

    return onnx_session(model, threads=2)


def speak(syllables, *, cut: bool, speed: float | None = None):
    """(audio or None, features (512, n), F0 curve (n,), token frames, owners, symbols)."""
    import voice.kokoro as K

    feed, owners, symbols = K.line_inputs(syllables, K.KOKORO_SPEED if speed is None else speed, K.KOKORO_VOICE)
    out = session(cut).run(None, feed)
    audio = None if cut else np.asarray(out.pop(0), np.float64).ravel()
    x, f0c, dur = out
    return audio, x[0], f0c.ravel(), np.asarray(dur, np.float64).ravel(), owners, symbols


def analysed(audio24k: np.ndarray, n: int):
    """What the singer's WORLD analysis finds in Kokoro's audio, at the ``n`` feature frames:
    log envelope (n, 64), aperiodicity (n, 16), voicing (n,)."""
    from representations.dsp import resample_poly
    from voice.world_singer import WorldSinger, _pyworld

    pw, s = _pyworld(), WorldSinger()
    a = s._normalise(resample_poly(audio24k, 147, 160))
    f0, detected = s._f0(a)
    f0 = s._fill_f0(f0, detected)
    t, t5 = (np.arange(n) + 0.5) * FRAME_S, np.arange(len(f0)) * s.frame_s
    voiced = np.interp(t, t5, (f0 > 0).astype(float)) >= 0.5
    f0i = np.where(voiced, np.interp(t, t5, f0), 0.0)
    sp, ap = pw.cheaptrick(a, f0i, t, WORK_RATE), pw.d4c(a, f0i, t, WORK_RATE)
    lsp = np.array([np.interp(MEL, FREQ, r) for r in np.log(np.maximum(sp, 1e-12))], np.float32)
    return lsp, np.array([np.interp(AP_MEL, FREQ, r) for r in ap], np.float32), voiced


# ---- data and training --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _common_chars() -> list[str]:
    from pypinyin.constants import PHRASES_DICT

    return [c for c, _ in collections.Counter(c for p in PHRASES_DICT for c in p).most_common(3000)]


def random_line(seed: int, lengths: tuple[int, int] = (4, 13)) -> tuple[str, list]:
    """A random line of ``lengths`` (low, high exclusive) of the 3,000 commonest characters in
    pypinyin's phrase list: (text, syllables as Kokoro phones)."""
    from pypinyin import Style, lazy_pinyin

    from voice.kokoro import pinyin_phones

    rng = np.random.default_rng(seed)
    text = "".join(rng.choice(_common_chars(), size=int(rng.integers(*lengths))))
    return text, [pinyin_phones(p) for p in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)]


def make_data(lines: int, first: int) -> None:
    (BUILD / "data").mkdir(parents=True, exist_ok=True)
    for k in range(first, first + lines):
        text, syl = random_line(k)
        audio, x, f0c, *_ = speak(syl, cut=False)
        lsp, ap, voiced = analysed(audio, x.shape[1])
        np.savez_compressed(BUILD / "data" / f"{k:05d}.npz", x=x.astype(np.float16), f0c=f0c.astype(np.float32),
                            lsp=lsp, ap=ap, vuv=voiced, text=text)
        print(k, text, flush=True)


def network_input(x: np.ndarray, f0c: np.ndarray) -> np.ndarray:
    return np.concatenate([x.astype(np.float32), np.log1p(np.maximum(f0c, 0))[None]])


def train(steps: int, width: int, layers: int) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    files = sorted((BUILD / "data").glob("*.npz"))
    rows = []
    for f in files:
        d = np.load(f)
        rows.append((network_input(d["x"], d["f0c"]), np.maximum(d["lsp"], FLOOR).T, d["ap"].T,
                     d["vuv"].astype(np.float32)[None], int(f.stem) % 10 == 9))
    train_rows, held = [r for r in rows if not r[4]], [r for r in rows if r[4]]
    allx = np.concatenate([r[0] for r in train_rows], axis=1)
    ally = np.concatenate([r[1] for r in train_rows], axis=1)
    mu, sd = allx.mean(1, keepdims=True), allx.std(1, keepdims=True) + 1e-3
    ymu, ysd = ally.mean(1, keepdims=True), ally.std(1, keepdims=True) + 1e-3
    loud = float(((FLOOR + 4 - ymu) / ysd).mean())  # frames louder than the floor + 4 weigh more

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Conv1d(513, width, 1)
            self.blocks = nn.ModuleList([nn.Conv1d(width, width, 5, padding=2) for _ in range(layers)])
            self.out = nn.Conv1d(width, 64 + 16 + 1, 1)

        def forward(self, x):
            h = torch.relu(self.inp(x))
            for b in self.blocks:
                h = h + torch.relu(b(h))
            return self.out(h)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 2e-3, total_steps=steps)

    def losses(x, y, a, v):
        o = net(x)
        weight = 0.3 + 0.7 * (y.amax(1, keepdim=True) > loud).float()
        return ((((o[:, :64] - y) ** 2) * weight).mean(), ((torch.sigmoid(o[:, 64:80]) - a) ** 2).mean() * 10,
                nn.functional.binary_cross_entropy_with_logits(o[:, 80:81], v))

    def crop(r, length=160):
        s = int(rng.integers(max(1, r[0].shape[1] - length)))
        parts = ((r[0] - mu) / sd, (r[1] - ymu) / ysd, r[2], r[3])
        return [np.pad(p[:, s:s + length], ((0, 0), (0, length - p[:, s:s + length].shape[1])), mode="edge") for p in parts]

    for step in range(steps):
        batch = [crop(train_rows[int(rng.integers(len(train_rows)))]) for _ in range(16)]
        loss = sum(losses(*[torch.tensor(np.stack(z)) for z in zip(*batch)]))
        loss.backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        if step % 500 == 0 or step == steps - 1:
            print(step, round(float(loss), 4), flush=True)
    weights = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    np.savez(BUILD / "network.npz", mu=mu, sd=sd, ymu=ymu, ysd=ysd, **weights)
    w = dict(np.load(BUILD / "network.npz"))
    errors = []
    for x, y, *_ in held:
        lsp = predict(w, x)[0]
        loud_frames = y.max(0) > FLOOR + 4
        errors.append(((lsp - y)[:, loud_frames] * 10 / np.log(10)) ** 2)
    print(f"held-out lines: {len(held)}, envelope error {np.sqrt(np.concatenate(errors, axis=1).mean()):.2f} dB RMS")


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (k // 2, k // 2)))
    cols = np.stack([xp[:, i:i + x.shape[1]] for i in range(k)], axis=2)
    return np.einsum("ctk,ock->ot", cols, w, optimize=True) + b[:, None]


def predict(w: dict, z: np.ndarray):
    """(log envelope (64, n), aperiodicity (16, n), voiced (n,)) from :func:`network_input`."""
    h = np.maximum(_conv((z - w["mu"]) / w["sd"], w["inp.weight"], w["inp.bias"]), 0)
    i = 0
    while f"blocks.{i}.weight" in w:
        h = h + np.maximum(_conv(h, w[f"blocks.{i}.weight"], w[f"blocks.{i}.bias"]), 0)
        i += 1
    o = _conv(h, w["out.weight"], w["out.bias"])
    return o[:64] * w["ysd"] + w["ymu"], 1 / (1 + np.exp(-o[64:80])), o[80] > 0


# ---- judging ------------------------------------------------------------------------------------
def install(source: str) -> None:
    """Make the singer sing Mandarin from speech re-synthesised by WORLD from ``source``'s
    features: "network" (the trained network, on the cut model) or "analysis" (Kokoro's own
    audio analysed: the ceiling of this test path)."""
    import voice.kokoro as K
    from representations.dsp import resample_poly
    from voice.speech import PiperSpeech
    from voice.world_singer import _pyworld

    weights = dict(np.load(BUILD / "network.npz")) if source == "network" else None

    @functools.lru_cache(maxsize=64)
    def _speak(syllables, speed, voice):
        audio, x, f0c, dur, owners, symbols = speak(syllables, cut=source == "network", speed=speed)
        n = x.shape[1]
        if source == "network":
            lsp, ap, voiced = predict(weights, network_input(x, f0c))
            lsp, ap = lsp.T, ap.T
        else:
            lsp, ap, voiced = analysed(audio, n)
        t, t5 = (np.arange(n) + 0.5) * FRAME_S, np.arange(int(n * FRAME_S / 0.005)) * 0.005

        def at_5ms(m):  # (n, bands) at the feature frames -> every 5 ms
            return np.array([np.interp(t5, t, band) for band in m.T]).T

        sp = np.exp(np.array([np.interp(FREQ, MEL, r) for r in at_5ms(lsp)]))
        ap5 = np.clip(np.array([np.interp(FREQ, AP_MEL, r) for r in at_5ms(ap)]), 0.001, 1.0)
        f0 = np.where(np.interp(t5, t, voiced.astype(float)) >= 0.5, np.interp(t5, t, np.maximum(f0c, 40.0)), 0.0)
        y = resample_poly(_pyworld().synthesize(f0, np.ascontiguousarray(sp), np.ascontiguousarray(ap5), WORK_RATE, 5.0),
                          160, 147)
        length = int(round(dur.sum() * K.KOKORO_HOP))
        y = np.pad(y, (0, max(0, length - len(y))))[:length]
        return PiperSpeech(y, K.KOKORO_RATE, K.token_edges(dur, len(y)), owners, symbols)

    K._speak = _speak


def install_fewer_frames(drop: str) -> None:
    """Make the singer sing Mandarin from the generator fed fewer frames than the line has:
    "padding:N" keeps N frames (25 ms) of the padding before the line, "vowels" every other
    frame of each vowel, "vowel-middles" half of each vowel, from its middle."""
    import voice.kokoro as K
    from voice.speech import PiperSpeech

    what, _, keep = drop.partition(":")

    def frames(a: int, b: int, role: str | None, first: bool) -> list[int]:  # feature frames kept of a..b
        if what == "padding" and role is None and first:
            return list(range(max(a, b - 2 * int(keep)), b))
        if what in ("vowels", "vowel-middles") and role == "nucleus" and b - a > 2:
            n = 2 * max(1, round((b - a) / 4))  # half the token's duration frames, as feature frames
            if what == "vowels":
                return np.round(np.linspace(a, b - 1, n)).astype(int).tolist()
            return list(range(a, a + n // 2)) + list(range(b - (n - n // 2), b))
        return list(range(a, b))

    @functools.lru_cache(maxsize=64)
    def _speak(syllables, speed, voice):
        _, x, f0c, dur, owners, symbols = speak(syllables, cut=True, speed=speed)
        kept, lengths, start = [], [], 0
        for k, (d, owner) in enumerate(zip(dur.astype(int), owners)):
            role = None if owner is None else syllables[owner[0]][owner[1]].role
            picked = frames(2 * start, 2 * (start + d), role, k == 0)
            kept += picked
            lengths.append(len(picked) / 2)
            start += d
        feed, *_ = K.line_inputs(syllables, speed, voice)
        audio = generator_session().run(None, {"style": feed["style"], FEATURES.decode(): np.ascontiguousarray(x[None][:, :, kept]),
                                               F0_CURVE.decode(): f0c[kept].reshape(1, 1, -1).astype(np.float32)})[0]
        audio = np.asarray(audio, np.float64).ravel()
        return PiperSpeech(audio, K.KOKORO_RATE, K.token_edges(np.array(lengths), len(audio)), owners, symbols)

    K._speak = _speak


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="speak random lines with Kokoro and analyse them")
    d.add_argument("--lines", type=int, default=1000)
    d.add_argument("--first", type=int, default=0, help="the first line's seed (to add to a data set)")
    t = sub.add_parser("train", help="train the network on the data")
    t.add_argument("--steps", type=int, default=6000)
    t.add_argument("--width", type=int, default=256)
    t.add_argument("--layers", type=int, default=6)
    j = sub.add_parser("judge", help="sing the ballad from re-synthesised speech and judge its words")
    j.add_argument("--from", dest="source", choices=("network", "analysis", "generator"), default="network")
    j.add_argument("--drop", default="padding:8", help='with --from generator: "padding:N", "vowels" or "vowel-middles"')
    j.add_argument("--voices", default="joe,alto")
    j.add_argument("--seeds", default="3,1,2")
    args = ap.parse_args()
    if args.cmd == "data":
        make_data(args.lines, args.first)
    elif args.cmd == "train":
        train(args.steps, args.width, args.layers)
    else:
        import mandarin_words

        if args.source == "generator":
            install_fewer_frames(args.drop)
        else:
            install(args.source)
        for voice in args.voices.split(","):
            rows = [mandarin_words.sung(voice, spec) for s in args.seeds.split(",")
                    for spec in mandarin_words.specs("ballad", int(s))]
            print(f"{voice}: syllable error rate {np.mean([w / max(t, 1) for w, t, _ in rows]):.3f}, "
                  f"pitch {np.mean([r[2] for r in rows]):.3f}", flush=True)


if __name__ == "__main__":
    main()
