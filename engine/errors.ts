// Redis 7.0's error texts, in one place. Each is the whole line without the '-'.
import { err, type Reply } from "../resp/reply";

export const E = {
  syntax: err("ERR syntax error"),
  wrongType: err("WRONGTYPE Operation against a key holding the wrong kind of value"),
  notInteger: err("ERR value is not an integer or out of range"),
  notFloat: err("ERR value is not a valid float"),
  overflow: err("ERR increment or decrement would overflow"),
  noSuchKey: err("ERR no such key"),
  dbIndexOutOfRange: err("ERR DB index is out of range"),
  invalidDbIndex: err("ERR invalid DB index"),
  invalidExpire: (cmd: string): Reply => err(`ERR invalid expire time in '${cmd}' command`),
  sameObject: err("ERR source and destination objects are the same"),
  nestedMulti: err("ERR MULTI calls can not be nested"),
  execWithoutMulti: err("ERR EXEC without MULTI"),
  discardWithoutMulti: err("ERR DISCARD without MULTI"),
  watchInMulti: err("ERR WATCH inside MULTI is not allowed"),
  execAbort: err("EXECABORT Transaction discarded because of previous errors."),
  noAuth: err("NOAUTH Authentication required."),
  wrongPass: err("WRONGPASS invalid username-password pair or user is disabled."),
  bitOffset: err("ERR bit offset is not an integer or out of range"),
  bitValue: err("ERR bit is not an integer or out of range"),
  stringTooLong: err("ERR string exceeds maximum allowed size (proto-max-bulk-len)"),
  timeoutNotFloat: err("ERR timeout is not a float or out of range"),
  timeoutNegative: err("ERR timeout is negative"),
  unknownCommand: (name: string, args: readonly string[]): Reply => {
    let preview = "";
    for (const a of args) {
      if (preview.length >= 128) break;
      preview += `'${a.slice(0, 128 - preview.length)}' `;
    }
    return err(`ERR unknown command '${sanitize(name, 128)}', with args beginning with: ${preview}`);
  },
  unknownSubcommand: (sub: string, cmd: string): Reply =>
    err(`ERR unknown subcommand '${sanitize(sub, 128)}'. Try ${cmd.toUpperCase()} HELP.`),
  wrongArity: (name: string): Reply => err(`ERR wrong number of arguments for '${name}' command`),
  generic: (message: string): Reply => err(`ERR ${message}`),
} as const;

/** Redis clips names in error messages and replaces newlines so the line stays one line. */
function sanitize(s: string, max: number): string {
  const clipped = s.length > max ? s.slice(0, max) : s;
  return clipped.replace(/[\r\n]/g, " ");
}
