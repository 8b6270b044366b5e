"""A goal-based agent plans a route, finds a closed door, replans; and reports a goal it cannot reach."""

from course.foundations import GoalBasedAgent, Grid, RouteWorld, edge

# A 5x4 grid with a wall across the top of the middle column; the map shows every door open.
grid = Grid(5, 4, walls=frozenset({(2, 0), (2, 1)}))
closed = frozenset({edge((1, 2), (2, 2))})  # ... but this door is shut, and only the world knows
world = RouteWorld(grid, start=(0, 0), goal=(4, 0), hidden=closed)
journey = GoalBasedAgent(grid).travel(world)
print(f"reached: {journey.reached}, plans made: {len(journey.plans)}, moves tried: {world.moves_taken}")
for n, plan in enumerate(journey.plans, 1):
    print(f"plan {n}: {' -> '.join(map(str, plan))}")

# The only way round is closed too: the agent says so instead of wandering.
world = RouteWorld(Grid(3, 1), start=(0, 0), goal=(2, 0), hidden=frozenset({edge((1, 0), (2, 0))}))
journey = GoalBasedAgent(world.map).travel(world)
print(f"reached: {journey.reached}, plans made: {len(journey.plans)}")
print(journey.reason)
