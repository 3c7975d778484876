"""Encoders and decoders whose latent is known exactly, for the analysis and verdict tests.

Two kinds: :class:`KnownEncoder` and :class:`KnownDecoder` compute their latent (or reconstruction) from
the cell itself, on the small :data:`GRID`; :func:`exact_autoencoder_state` builds real paper-sized weights
(36 -> 8 -> 36) in the authors' checkpoint format, for the command line, which loads its own networks.
"""

from __future__ import annotations

import torch

from scinet.nets import DenseAutoencoder, DenseDecoder, DenseEncoder

GRID = (4, 5, 6)  # small and unequal sides, so that a mixed-up axis shows
PUBLISHED_SELECTION = [-3.63, -3.38, 4.67, 6.79, 3.29, 6.84, -3.62, 4.88]


class KnownEncoder(DenseEncoder):
    """A DenseEncoder whose latent is built from the cell: columns as chosen by ``columns``."""

    def __init__(self, columns: list[str], selection: list[float]) -> None:
        super().__init__(input_dim=sum(GRID), latent_dim=len(columns))
        self.columns = columns
        self.selection.selectors.data = torch.tensor(selection)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xyz = [chunk.argmax(1).double() for chunk in torch.split(x, GRID, dim=1)]
        noise = torch.randn(len(x), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        make = {
            "x": lambda: xyz[0],
            "x%2": lambda: xyz[0] % 2,  # a coarse function of x: eta2 with x is 1 all the same
            "y3": lambda: xyz[1] ** 3,  # nonlinear in y
            "-z": lambda: -2.0 * xyz[2],
            "x+y": lambda: xyz[0] + xyz[1],
            "x+y/10": lambda: xyz[0] + xyz[1] / 10,
            "|x-2|": lambda: (xyz[0] - 2).abs(),  # distance to a reward at x = 2 ...
            "sgn(x-2)": lambda: (xyz[0] - 2).sign(),  # ... and the side of it: x split over two neurons
            "const": lambda: torch.ones(len(x), dtype=torch.float64),
            "noise": lambda: noise,
        }
        return torch.stack([make[c]() for c in self.columns], 1).float()


INVERSES = {
    "x": lambda v: v,
    "x%2": lambda v: v,
    "x+y/10": lambda v: v - 0.2,  # x + (y - 2) / 10 is within 0.2 of x on GRID
    "y3": lambda v: v.clamp(min=0) ** (1 / 3),
    "-z": lambda v: -v / 2,
    "|x-2|": lambda v: 2 + v,  # right only for x >= 2: the piece alone does not hold x
}
"""How :class:`KnownDecoder` reads a coordinate back from a column of :class:`KnownEncoder`."""


class KnownDecoder(DenseDecoder):
    """Reads coordinate c from latent column ``reads[c]``, a column of kind ``columns[reads[c]]``.

    Its logits for value k of a coordinate read as v are -(k - v)², largest at the value nearest v, so the
    decoder is exact wherever the column holds the coordinate itself.
    """

    def __init__(self, columns: list[str], reads: dict[str, int]) -> None:
        super().__init__(latent_dim=len(columns), output_dim=sum(GRID))
        self.columns, self.reads = columns, reads

    def logits(self, latent: torch.Tensor) -> torch.Tensor:
        blocks = []
        for c, n in zip("xyz", GRID, strict=True):
            column = self.reads[c]
            value = INVERSES[self.columns[column]](latent[:, column].double())
            blocks.append(-((torch.arange(n, dtype=torch.float64) - value[:, None]) ** 2))
        return torch.cat(blocks, 1).float()


def exact_autoencoder_state(x_code: str) -> dict[str, torch.Tensor]:
    """Paper-sized autoencoder weights (grid 12³) in the authors' format: encoder.* and decoder.* keys.

    Latent neuron 0 is z, 1 is y, 6 is x (``x_code="x"``) or only the parity of x (``x_code="parity"``), as
    many as the published encoder keeps and with its selection values; the others are 0. The encoder's first
    layer maps each one-hot coordinate to its value (or parity), and since the input is one-hot and the
    values are ≥ 0, every ELU passes them unchanged; the later layers copy them through. The decoder reads
    v = neuron 6, 1, 0 for x, y, z and gives value k the logit (k·v - k²/2) / 10, largest at the k nearest v:
    exact for a neuron that holds its coordinate, right only for x ∈ {0, 1} when neuron 6 holds the parity.
    """
    if x_code not in ("x", "parity"):
        raise ValueError(f"x_code must be 'x' or 'parity', got {x_code!r}")
    net = DenseAutoencoder()
    encoder, decoder = net.encoder, net.decoder
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        values = torch.arange(12, dtype=torch.float32)
        encoder.input[0].weight[0, 24:36] = values  # hidden unit 0 = z
        encoder.input[0].weight[1, 12:24] = values  # 1 = y
        encoder.input[0].weight[2, 0:12] = values if x_code == "x" else values % 2  # 2 = x or its parity
        for layer in encoder.encoding:
            layer[0].weight[:3, :3] = torch.eye(3)
        encoder.abstraction.weight[[0, 1, 6], [0, 1, 2]] = 1.0
        encoder.selection.selectors.copy_(torch.tensor(PUBLISHED_SELECTION))
        decoder.unabstraction[0].weight[[0, 1, 2], [6, 1, 0]] = 1.0  # hidden units 0, 1, 2 = x, y, z
        for layer in decoder.decoding[:-1]:
            layer[0].weight[:3, :3] = torch.eye(3)
        out = decoder.decoding[-1][0]
        for axis in range(3):
            out.weight[12 * axis : 12 * axis + 12, axis] = values / 10
            out.bias[12 * axis : 12 * axis + 12] = -(values**2) / 20
    return {k: v.clone() for k, v in net.state_dict().items()}
