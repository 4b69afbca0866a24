/**
 * The Gemini simulator's model catalogue: `GET /v1beta/models` and `GET /v1beta/models/{model}`
 * in Google's shape, listing a few well-known ids plus every model the options configure.
 */
import type { SimulatorOptions } from "../engine.ts";
import { errorResponse } from "./render.ts";

const KNOWN = ["gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro"];

function modelResource(id: string) {
  const words = id.split("-").map((w) => w[0]?.toUpperCase() + w.slice(1));
  return {
    name: `models/${id}`,
    version: "001",
    displayName: words.join(" "),
    description: `Simulated ${id} (Switchyard)`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ["generateContent", "countTokens"],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

function modelIds(options: SimulatorOptions): string[] {
  return [...new Set([...KNOWN, ...Object.keys(options.models ?? {})])];
}

const json = (body: unknown) =>
  new Response(JSON.stringify(body, null, 2), {
    headers: { "content-type": "application/json; charset=UTF-8" },
  });

/** `models.list`: every model in one page. */
export function listModels(options: SimulatorOptions): Response {
  return json({ models: modelIds(options).map(modelResource) });
}

/** `models.get`: one model, or Google's 404. */
export function getModel(options: SimulatorOptions, id: string): Response {
  if (!modelIds(options).includes(id)) {
    return errorResponse(404, "NOT_FOUND", `models/${id} is not found for API version v1beta.`);
  }
  return json(modelResource(id));
}
