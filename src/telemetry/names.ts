/**
 * Every span, attribute, event and metric name Switchyard emits, in one place. GenAI names follow
 * the OpenTelemetry GenAI semantic conventions (Development status); ours are under `switchyard.`.
 */

export const TRACER_NAME = "switchyard";

export const SPAN = {
  /** The policy decision, a child of Deno's server span. */
  decide: "policy.decide",
  /** One upstream attempt: `chat {model}` per the GenAI conventions. */
  attempt: (model: string) => `chat ${model}`,
  /** The simulated gateway's own routing work. */
  gatewayRoute: "gateway.route",
  /** A simulator handling one request. */
  simulate: (request: string) => `simulate ${request}`,
} as const;

export const EVENT = {
  /** On the attempt span, when the first generated content arrived. */
  firstToken: "first_token",
  /** On the decide span, once per rule whose expression errored. */
  ruleError: "rule_error",
} as const;

/** Standard attribute names (OpenTelemetry semantic conventions). */
export const ATTR = {
  httpRoute: "http.route",
  errorType: "error.type",
  serverAddress: "server.address",
  serverPort: "server.port",
  httpRequestMethod: "http.request.method",
  httpResponseStatusCode: "http.response.status_code",
  urlFull: "url.full",
  networkProtocolVersion: "network.protocol.version",
  genAiOperation: "gen_ai.operation.name",
  genAiProvider: "gen_ai.provider.name",
  genAiRequestModel: "gen_ai.request.model",
  genAiRequestStream: "gen_ai.request.stream",
  genAiRequestMaxTokens: "gen_ai.request.max_tokens",
  genAiRequestTemperature: "gen_ai.request.temperature",
  genAiResponseModel: "gen_ai.response.model",
  genAiResponseId: "gen_ai.response.id",
  genAiFinishReasons: "gen_ai.response.finish_reasons",
  genAiInputTokens: "gen_ai.usage.input_tokens",
  genAiOutputTokens: "gen_ai.usage.output_tokens",
  genAiTimeToFirstChunk: "gen_ai.response.time_to_first_chunk",
  genAiTokenType: "gen_ai.token.type",
  genAiInputMessages: "gen_ai.input.messages",
  genAiOutputMessages: "gen_ai.output.messages",
  /** Proposed gateway attributes (open GenAI proposal). */
  gatewayProvidersAttempted: "gen_ai.gateway.providers.attempted",
  gatewayRequestModel: "gen_ai.gateway.request.model",
} as const;

/** Switchyard's own attributes. */
export const SY = {
  policyName: "switchyard.policy.name",
  policyVersion: "switchyard.policy.version",
  policyHash: "switchyard.policy.hash",
  rule: "switchyard.rule",
  route: "switchyard.route",
  via: "switchyard.via",
  rulesEvaluated: "switchyard.rules_evaluated",
  decisionUs: "switchyard.decision_us",
  attempt: "switchyard.attempt",
  fallbackReason: "switchyard.fallback_reason",
  simulated: "switchyard.simulated",
  costUsd: "switchyard.cost_usd",
  costSource: "switchyard.cost_source",
  overheadMs: "switchyard.overhead_ms",
  requestId: "switchyard.request_id",
  attempts: "switchyard.attempts",
  outcome: "switchyard.outcome",
  budgetRemainingUsd: "switchyard.budget.remaining_usd",
  /** What the gateway reported about a generation (OpenRouter). */
  gatewayProvider: "switchyard.gateway.provider",
  gatewayLatencyMs: "switchyard.gateway.reported_latency_ms",
  gatewayGenerationMs: "switchyard.gateway.generation_time_ms",
  gatewayOverheadMs: "switchyard.gateway.overhead_ms",
  ruleName: "switchyard.rule.name",
  ruleMessage: "switchyard.rule.message",
} as const;

export const METRIC = {
  operationDuration: "gen_ai.client.operation.duration",
  tokenUsage: "gen_ai.client.token.usage",
  timeToFirstChunk: "gen_ai.client.operation.time_to_first_chunk",
  decisionDuration: "switchyard.decision.duration",
  overhead: "switchyard.overhead.duration",
  budgetRemaining: "switchyard.budget.remaining",
  fallbacks: "switchyard.fallbacks",
  gatewayOverhead: "switchyard.gateway.overhead",
  cost: "switchyard.cost",
  shadowDecisions: "switchyard.shadow.decisions",
  decisionLogFailures: "switchyard.decision_log.failures",
  /** Upstream connections of Switchyard's own client, by state (HTTP semantic conventions). */
  openConnections: "http.client.open_connections",
} as const;
