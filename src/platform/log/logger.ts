import { type DestinationStream, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level: string;
  readonly format: "auto" | "json" | "pretty";
  readonly name?: string;
  readonly node?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to read what was logged. */
  readonly destination?: DestinationStream;
}

/**
 * Fields that may carry credentials anywhere in a log object. pino removes them before serialising,
 * so a careless `log.info({ req })` cannot leak a token.
 */
export const REDACT_PATHS = [
  "password",
  "*.password",
  "secret",
  "*.secret",
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "headers.authorization",
  "headers.cookie",
  'res.headers["set-cookie"]',
  "databaseUrl",
  "*.databaseUrl",
];

export function createLogger(options: LoggerOptions): Logger {
  const usePretty =
    options.format === "pretty" || (options.format === "auto" && process.stdout.isTTY === true);
  const base = { name: options.name ?? "sonde", node: options.node };
  const opts = {
    level: options.level,
    base,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination !== undefined) return pino(opts, options.destination);
  if (usePretty)
    return pino(opts, pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }));
  return pino(opts);
}
