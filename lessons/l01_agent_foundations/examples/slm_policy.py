"""SmolLM2 as the policy of a route-finding agent, beside the search-based agent, in the same worlds."""

from course.backends import LlamaCppBackend
from course.foundations import GoalBasedAgent, RouteWorld, run_slm_policy

model = LlamaCppBackend("smollm2-135m")
print("world | SmolLM2: reached, moves, first moves | planner: reached, moves")
for seed in range(3):
    world = RouteWorld.random(seed, width=5, height=5, closed_doors=1)
    run = run_slm_policy(model, world, max_moves=12)
    assert all(move in legal for move, legal in zip(run.moves, run.legal))  # constrained: never an impossible move
    twin = RouteWorld.random(seed, width=5, height=5, closed_doors=1)
    journey = GoalBasedAgent(twin.map).travel(twin)
    print(f"{seed:5d} | {str(run.reached):>5} {len(run.moves):3d}  {' '.join(run.moves[:6]):40} "
          f"| {str(journey.reached):>5} {twin.moves_taken:3d}")
