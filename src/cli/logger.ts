// The service's log: pino, JSON lines on stderr by default (what log collectors read), or
// one readable line per record for a person at a terminal (`--log-format text`). Made once
// at start from the resolved settings and handed to the service; stdout stays for the
// command's own answer (the listening line, or its --json).
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { LogFormat } from './serve-settings.ts';

export function createLogger(level: string, format: LogFormat, out: NodeJS.WritableStream = process.stderr): Logger {
  return pino({ level, base: undefined }, format === 'json' ? out : textLines(out));
}

/** pino's JSON records as `12:00:01.234 INFO job done jobId=job_x seconds=4.2`. */
function textLines(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) out.write(`${textLine(line)}\n`);
      done();
    },
  });
}

/** One JSON record as a line of text (exported for its test). */
export function textLine(json: string): string {
  const { level, time, msg, ...fields } = JSON.parse(json) as Record<string, unknown>;
  const when = new Date(Number(time)).toISOString().slice(11, 23);
  const rest = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return [when, (pino.levels.labels[Number(level)] ?? String(level)).toUpperCase(), msg, ...rest].join(' ');
}
