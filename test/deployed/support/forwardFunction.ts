// The user's forward model as a Lambda function, for the deployed-artifacts stage's inverse jobs:
// bundled like the app's functions (globalSetup.ts) and invoked by the state machine's
// Forward (lambda) state. { parameters, theta: [[u…]] } → { outputs: [[G…]] }: Lorenz-96's
// four moments (the built-in forward's), so a job through it ends where the built-in one does.
// FORWARD_FAIL=1 makes every invocation fail, as a simulation that diverges would.

import { lorenz96Statistics } from "../../../shared/simulators/lorenz96.ts";
import { LORENZ } from "./jobs.ts";

export async function handler(event: { parameters: string[]; theta: number[][] }): Promise<{ outputs: number[][] }> {
  if (process.env.FORWARD_FAIL === "1")
    throw Object.assign(new Error("the simulation diverged"), { name: "SimulationError" });
  const at = (u: number[], name: string) => u[event.parameters.indexOf(name)];
  return {
    outputs: event.theta.map((u) => {
      const g = new Float64Array(4);
      lorenz96Statistics({ forcing: at(u, "forcing"), coupling: at(u, "coupling") }, LORENZ, g);
      return Array.from(g);
    }),
  };
}
