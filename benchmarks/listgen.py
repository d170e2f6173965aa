"""Generated paper lists for the benchmarks, in the style of data/papers.md.

Hosts are loopback addresses, 127.0.0.2 on: glibc does not resolve `*.localhost` names here, and
every address of 127/8 is loopback on Linux, so each address is a distinct host to any client.
"""

from __future__ import annotations

WORDS = (
    ("Sparse", "Dense", "Graph", "Neural", "Latent", "Robust", "Adaptive", "Spectral", "Causal", "Implicit"),
    ("Attention", "Distillation", "Transfer", "Pruning", "Quantization", "Alignment", "Diffusion", "Tokens",
     "Kernels", "Manifolds"),
    ("Teachers", "Students", "Ensembles", "Priors", "Embeddings", "Features", "Gradients", "Samples", "Labels",
     "Views"),
)


def host_addresses(count: int) -> list[str]:
    """127.0.0.2, 127.0.0.3, ... (then 127.0.1.1, ...): never 127.0.0.1, which the server keeps for control."""
    out: list[str] = []
    n = 2
    while len(out) < count:
        if n % 256 not in (0, 255):
            out.append(f"127.0.{n // 256}.{n % 256}")
        n += 1
    return out


def _title(n: int) -> str:
    words = []
    for pos in range(6):
        group = WORDS[pos % 3]
        words.append(group[(n // 10**pos) % 10])
    return "Learning " + " ".join(words)


def web_list(links: int, hosts: int, port: int, *, kind: str = "p") -> str:
    """`links` entries, one link each, spread round-robin over `hosts` loopback hosts.

    kind: "p" small HTML pages, "pdf" 5 MB PDFs, "nohead/pdf" PDFs whose server refuses HEAD.
    """
    addresses = host_addresses(hosts)
    lines = ["# Benchmark list", ""]
    per_section = 50
    for i in range(links):
        if i % per_section == 0:
            lines += ["", f"## {2000 + i // per_section % 25}"]
        host = addresses[i % hosts]
        suffix = ".pdf" if kind.endswith("pdf") else ""
        url = f"http://{host}:{port}/{kind}/{i}{suffix}"
        lines.append(f"### {_title(i)} ICLR {2000 + i % 25} [[paper]]({url})")
    return "\n".join(lines) + "\n"


def arxiv_id(n: int) -> str:
    """A well-formed new-style id: 2001.00001, 2001.00002, ..."""
    return f"{2001 + n // 90000 % 12:04d}.{n % 90000 + 1:05d}"


def arxiv_title(identifier: str) -> str:
    """The title the fake arXiv API gives an id; the generated list uses the same."""
    digits = [int(c) for c in identifier if c.isdigit()]
    n = int("".join(map(str, digits[-6:])) or 0)
    return _title(n) + " " + WORDS[0][digits[0] % 10]


def arxiv_list(links: int) -> str:
    lines = ["# Benchmark list of arXiv papers", "", "## Papers"]
    for i in range(links):
        identifier = arxiv_id(i)
        lines.append(f"### {arxiv_title(identifier)} arXiv 2020 [[paper]](https://arxiv.org/abs/{identifier})")
    return "\n".join(lines) + "\n"
