"""Q-learning in a small maze: moves per episode fall as the agent learns. Draws learning_curve.svg."""

from pathlib import Path

from course.foundations import maze_learning_curve
from course.plot import line_chart

exploring = maze_learning_curve(episodes=60, seeds=20, epsilon=0.1)
greedy = maze_learning_curve(episodes=60, seeds=20, epsilon=0.0)

print(f"epsilon 0.1: {exploring.mean(first=10):.1f} moves in the first 10 episodes, "
      f"{exploring.mean(last=10):.1f} in the last 10")
print(f"epsilon 0.0: {greedy.mean(first=10):.1f} moves in the first 10 episodes, "
      f"{greedy.mean(last=10):.1f} in the last 10")

svg = line_chart(
    {"epsilon 0.1 (explores)": list(zip(exploring.episodes, exploring.moves)),
     "epsilon 0 (greedy, zero start)": list(zip(greedy.episodes, greedy.moves))},
    title="Q-learning in a 5x5 maze: mean of 20 seeded runs",
    x_label="episode", y_label="moves to reach the goal (capped at 100)")
out = Path(__file__).resolve().parents[1] / "learning_curve.svg"
out.write_text(svg)
print(f"wrote {out.name}")
