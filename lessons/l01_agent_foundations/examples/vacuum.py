"""A reflex robot and a model-based robot in the same partially observable vacuum worlds."""

from course.foundations import MappingVacuum, ReflexVacuum, VacuumWorld, run_vacuum

print("world  cells  dirt | reflex: actions, dirt left, stopped | model-based: actions, dirt left, stopped")
for seed in range(5):
    world = VacuumWorld.random(seed)
    cells, dirt = len(world.grid.reachable(world.position)), len(world.reachable_dirt(world.position))
    reflex = run_vacuum(ReflexVacuum(seed), VacuumWorld.random(seed), max_steps=200)
    mapped = run_vacuum(MappingVacuum(), VacuumWorld.random(seed), max_steps=200)
    print(f"{seed:5d}  {cells:5d}  {dirt:4d} | {len(reflex.actions):15d} {reflex.left_dirty:10d} {str(reflex.stopped):>8} "
          f"| {len(mapped.actions):20d} {mapped.left_dirty:10d} {str(mapped.stopped):>8}")

world = VacuumWorld.random(0)
print(world.grid.render({world.position: "R", **{c: "*" for c in world.dirt if c != world.position}}))
