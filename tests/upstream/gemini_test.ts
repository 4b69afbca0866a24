/** The Gemini adapter and its simulator run the shared conformance suite. */
import { geminiAdapter } from "../../src/upstream/gemini/index.ts";
import { createGeminiSimulator } from "../../src/sim/gemini.ts";
import { runConformance } from "./conformance.ts";

runConformance({
  name: "gemini",
  adapter: geminiAdapter,
  simulator: createGeminiSimulator,
  baseUrlPath: "/v1beta",
  model: "gemini-2.5-flash",
});
