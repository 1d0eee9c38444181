// Every command family the engine implements, registered into the table.
import type { CommandSpec } from "../command";
import { CONNECTION_COMMANDS } from "./connection";
import { HASH_COMMANDS } from "./hash";
import { LIST_COMMANDS } from "./list";
import { LIST_BLOCKING_COMMANDS } from "./list-blocking";
import { MULTI_COMMANDS } from "./multi";
import { STRING_COMMANDS } from "./string";
import { BITOPS_COMMANDS } from "./bitops";
import { BITFIELD_COMMANDS } from "./bitfield";
import { LCS_COMMANDS } from "./lcs";
import { SERVER_COMMANDS } from "./server";
import { INFO_COMMANDS } from "./info";
import { KEYS_COMMANDS } from "./keys";
import { EXPIRE_COMMANDS } from "./expire";
import { DUMP_COMMANDS } from "./dump";
import { SET_COMMANDS } from "./set";
import { ZSET_COMMANDS } from "./zset";
import { ZSET_BLOCKING_COMMANDS } from "./zset-blocking";
import { STREAM_COMMANDS } from "./stream";
import { GEO_COMMANDS } from "./geo";
import { SORT_COMMANDS } from "./sort";
import { HYPERLOGLOG_COMMANDS } from "./hyperloglog";

export const ALL_COMMANDS: readonly CommandSpec[] = [...CONNECTION_COMMANDS, ...MULTI_COMMANDS, ...STRING_COMMANDS, ...LIST_COMMANDS, ...LIST_BLOCKING_COMMANDS, ...HASH_COMMANDS, ...BITOPS_COMMANDS, ...BITFIELD_COMMANDS, ...LCS_COMMANDS, ...SERVER_COMMANDS, ...INFO_COMMANDS, ...KEYS_COMMANDS, ...EXPIRE_COMMANDS, ...DUMP_COMMANDS, ...SET_COMMANDS, ...ZSET_COMMANDS, ...ZSET_BLOCKING_COMMANDS, ...HYPERLOGLOG_COMMANDS, ...GEO_COMMANDS, ...SORT_COMMANDS, ...STREAM_COMMANDS];
