// Every command family the engine implements, registered into the table.
import type { CommandSpec } from "../command";
import { CONNECTION_COMMANDS } from "./connection";
import { MULTI_COMMANDS } from "./multi";
import { STRING_COMMANDS } from "./string";

export const ALL_COMMANDS: readonly CommandSpec[] = [...CONNECTION_COMMANDS, ...MULTI_COMMANDS, ...STRING_COMMANDS];
