"""Watching a trained agent: its episodes played one by one and drawn into an animated GIF.

Path-length statistics (:mod:`scinet.evaluation`) say how good an agent is; a picture of its walks says how
it behaves: whether it heads straight for the reward, wanders along the axis that does not matter, or
circles. The agent acts exactly as in training and evaluation (:mod:`scinet.ps` turns its h-values into a
softmax or greedy choice); the single Gymnasium environment plays, and each frame is the environment's own
RGB picture (:mod:`scinet.envs.render`) with a caption. Everything is drawn in memory, so it runs headless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from scinet.envs import SubGridConfig, SubGridWorld, plane_distances
from scinet.envs.render import BACKGROUND, rgb_frame
from scinet.nets import DPSNetwork
from scinet.ps import greedy_actions, sample_actions

Cell = tuple[int, int, int]
SCALE = 2
"""Each pixel of the environment's picture becomes SCALE x SCALE pixels of the GIF."""
HOLD_MS = 1000
"""How long the last frame of an episode stays, so that its outcome can be read."""
CAPTION_PX = 44
FONT_PX = 14


@dataclass(frozen=True)
class Episode:
    """One played episode: the agent's cell at the start and after every step, and how it ended."""

    cells: tuple[Cell, ...]
    reward_cell: Cell
    reached: bool
    shortest: int
    """Length of the shortest path from the start to the reward."""

    @property
    def steps(self) -> int:
        return len(self.cells) - 1

    @property
    def outcome(self) -> str:
        ended = f"reward in {self.steps} steps" if self.reached else f"time-out after {self.steps} steps"
        return f"{ended} (shortest {self.shortest})"


def play_episodes(
    agent: DPSNetwork,
    config: SubGridConfig,
    episodes: int,
    seed: int,
    beta: float = 0.5,
    greedy: bool = False,
) -> list[Episode]:
    """``episodes`` episodes of ``agent`` in ``config``; the same seed gives the same starts and choices."""
    if not config.max_steps:
        raise ValueError("playing needs max_steps > 0, or an untrained agent may never finish")
    env = SubGridWorld(**config.as_kwargs())
    generator = torch.Generator().manual_seed(seed)
    distances = plane_distances(config)
    a, b = config.plane_axes
    played = []
    obs, info = env.reset(seed=seed)
    for _ in range(episodes):
        cells, start, done, reached = [info["agent_pos"]], info["agent_pos"], False, False
        while not done:
            with torch.inference_mode():
                h_values = agent.h_values(torch.from_numpy(obs).unsqueeze(0))
            action = greedy_actions(h_values) if greedy else sample_actions(h_values, beta, generator)
            obs, _, reached, truncated, info = env.step(int(action[0]))
            cells.append(info["agent_pos"])
            done = reached or truncated
        played.append(Episode(tuple(cells), info["reward_cell"], reached, int(distances[start[a], start[b]])))
        obs, info = env.reset()
    return played


def write_gif(path: Path, episodes: list[Episode], config: SubGridConfig, title: str) -> int:
    """Writes the episodes as one looping GIF at the environment's ``render_fps``; returns its frame count.

    Every frame carries its episode and step in the caption, so no two frames are alike and none is merged
    away by the GIF encoder: the file has exactly one frame per state, the start included.
    """
    font = ImageFont.load_default(FONT_PX)
    step_ms = round(1000 / SubGridWorld.metadata["render_fps"])
    frames, durations = [], []
    for number, episode in enumerate(episodes, 1):
        for time, cell in enumerate(episode.cells):
            last = time == episode.steps
            lines = (
                f"{title}  episode {number}/{len(episodes)}  step {time}/{config.max_steps}",
                episode.outcome if last else "",
            )
            frames.append(_captioned(rgb_frame(config, cell, episode.reward_cell), lines, font))
            durations.append(HOLD_MS if last else step_ms)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return len(frames)


def _captioned(
    picture: np.ndarray, lines: tuple[str, str], font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> Image.Image:
    scaled = picture.repeat(SCALE, axis=0).repeat(SCALE, axis=1)
    frame = Image.new("RGB", (scaled.shape[1], scaled.shape[0] + CAPTION_PX), BACKGROUND)
    frame.paste(Image.fromarray(scaled), (0, 0))
    ImageDraw.Draw(frame).multiline_text(
        (4, scaled.shape[0] + 4), "\n".join(lines), fill=(0, 0, 0), font=font, spacing=4
    )
    return frame
