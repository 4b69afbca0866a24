import { openaiAdapter } from "../../src/upstream/openai/index.ts";
import { createOpenAISimulator } from "../../src/sim/openai.ts";
import { runConformance } from "./conformance.ts";

runConformance({
  name: "openai",
  adapter: openaiAdapter,
  simulator: createOpenAISimulator,
  baseUrlPath: "/v1",
  model: "gpt-4o-mini",
});
