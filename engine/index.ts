// The embeddable engine: `new Engine()`, `execute(argv)` -> { reply, effects }.
export { Engine } from "./engine";
export type { EngineOptions, ExecResult } from "./engine";
export type { Effect } from "./context";
export { Session } from "./session";
export type { Reply } from "../resp/reply";
