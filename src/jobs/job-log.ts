// What the service's log says about a job: one line per thing an operator follows (submitted,
// each phase, done, failed with its code, cancelled, each webhook attempt), never a
// progress tick. logLineOf is pure: a stored event in, a log line (message and fields) out.
import type { Logger } from 'pino';
import type { JobEvent } from './database.ts';

export interface LogLine {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown>;
}

/** The log line for a stored event of a job that started `seconds` ago (undefined: not started here). */
export function logLineOf(event: JobEvent, seconds?: number): LogLine | undefined {
  if (event.type === 'progress') return undefined;
  const data = JSON.parse(event.data) as { phase?: string; error?: { code?: string } };
  const jobId = event.job_id;
  const took = seconds === undefined ? {} : { seconds: Math.round(seconds * 1000) / 1000 };
  switch (event.type) {
    case 'phase':
      return { level: 'info', msg: 'job phase', fields: { jobId, phase: data.phase } };
    case 'done':
      return { level: 'info', msg: 'job done', fields: { jobId, ...took } };
    case 'failed':
      return { level: 'warn', msg: 'job failed', fields: { jobId, code: data.error?.code, ...took } };
    case 'cancelled':
      return { level: 'info', msg: 'job cancelled', fields: { jobId, ...took } };
    default:
      return undefined;
  }
}

/** Writes the log line of an event (if it has one), with more fields (the worker's name). */
export function logEvent(log: Logger, event: JobEvent, seconds?: number, fields: Record<string, unknown> = {}): void {
  const line = logLineOf(event, seconds);
  if (line) log[line.level]({ ...line.fields, ...fields }, line.msg);
}
