// The bench's results as a markdown table, ready to paste into the README, with the
// machine they were measured on (timings mean little without it).
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { ffmpegBinary, run } from '../src/media/index.ts';
import { DEFAULT_ENCODER } from '../src/render/index.ts';
import type { Measurement, Run } from './measure.ts';

/** Peak memory allowed for any one render, summed over node and its ffmpegs. */
export const RSS_TARGET_MB = 600;

export interface Machine {
  cpu: string;
  cores: number;
  ffmpeg: string;
  node: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU';
  const version = await run(ffmpegBinary().path, ['-version']).catch(() => 'ffmpeg version unknown');
  return {
    cpu,
    cores: availableParallelism(),
    ffmpeg: version
      .split('\n')[0]
      .replace(/\s+Copyright.*$/, '')
      .trim(),
    node: process.version,
  };
}

/** One line per run as it finishes, so a long bench shows where it is and how much runs vary. */
export function progressLine(name: string, run: Run): string {
  const baselines =
    `floor ${run.floorWall.toFixed(2)} s` +
    (run.transcodeWall === undefined ? '' : `, plain transcode ${run.transcodeWall.toFixed(2)} s`) +
    `; other processes ${(run.othersCpu * 100).toFixed(0)}% CPU`;
  if (!run.render) return `${name}: FAILED: ${run.error} (${baselines})`;
  const { wall, timings, peakRss } = run.render;
  const phases = `plan ${timings.planning.toFixed(2)} + render ${timings.rendering.toFixed(2)} + assemble ${timings.assembling.toFixed(2)}`;
  return `${name}: ${wall.toFixed(2)} s (${phases}), peak ${Math.round(peakRss / 1e6)} MB; ${baselines}`;
}

/** Above this share of the CPU going to other processes, the times say more about them than about the engine. */
const BUSY_MACHINE = 0.05;

/** `othersCpu`: the share of all CPU time that processes outside the bench used while it ran. */
export function markdownReport(measurements: Measurement[], machine: Machine, othersCpu: number): string {
  const header = [
    'Movie',
    'Length',
    'Wall',
    'Realtime',
    'Wall / floor',
    'Wall / transcode',
    'Peak RSS',
    'Plan / render / assemble',
    'Frames',
  ];
  const rows = measurements.map(row);
  const problems = measurements.flatMap((m) => [
    ...(m.error ? [`${m.bench.name} failed: ${m.error}`] : []),
    ...(m.render?.problems ?? []).map((p) => `${m.bench.name} output: ${p}`),
  ]);
  const runs = Math.max(...measurements.map((m) => m.runs));
  return [
    table(header, rows),
    '',
    `Times are medians of ${runs} run${runs === 1 ? '' : 's'}; ratios are medians of each render over the baseline run just before it; peak RSS is the largest of any run: ` +
      'node plus every ffmpeg at the same moment, sampled every 50 ms (MB = 10^6 bytes). ' +
      `Floor: ffmpeg alone encoding a plain lavfi colour source of the same length and size with the engine's encoder settings ` +
      `(libx264 ${DEFAULT_ENCODER.preset} crf ${DEFAULT_ENCODER.crf}, high profile, yuv420p). ` +
      'Transcode: ffmpeg alone decoding the source video, scaling it to 1920x1080 and encoding it the same way.',
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores; ${machine.ffmpeg}; Node ${machine.node}. ` +
      `Other processes used ${(othersCpu * 100).toFixed(1)}% of the CPU time while the bench ran` +
      (othersCpu > BUSY_MACHINE
        ? ': the machine was busy, so these times are inflated; rerun on a quiet machine.'
        : '.'),
    ...(problems.length > 0 ? ['', '**Problems**', ...problems.map((p) => `- ${p}`)] : []),
  ].join('\n');
}

function row(m: Measurement): string[] {
  const { bench, seconds } = m;
  const start = [`${bench.name}: ${bench.description}`, `${seconds} s`];
  if (!m.render) return [...start, 'failed', '', '', '', '', '', ''];
  const { wall, peakRss, timings, frames, problems } = m.render;
  const targets = bench.targets;
  const realtime = seconds / wall;
  const rssMb = peakRss / 1e6;
  return [
    ...start,
    `${wall.toFixed(2)} s`,
    withTarget(
      `${realtime.toFixed(1)}x`,
      targets.realtime,
      `>= ${targets.realtime}x`,
      realtime >= (targets.realtime ?? 0),
    ),
    withTarget(
      `${m.floorRatio!.toFixed(2)}x (floor ${m.floorWall.toFixed(2)} s)`,
      targets.floorRatio,
      `<= ${targets.floorRatio}x`,
      m.floorRatio! <= (targets.floorRatio ?? Infinity),
    ),
    m.transcodeRatio === undefined
      ? '–'
      : withTarget(
          `${m.transcodeRatio.toFixed(2)}x (transcode ${m.transcodeWall!.toFixed(2)} s)`,
          targets.transcodeRatio,
          `<= ${targets.transcodeRatio}x`,
          m.transcodeRatio <= (targets.transcodeRatio ?? Infinity),
        ),
    withTarget(`${Math.round(rssMb)} MB`, RSS_TARGET_MB, `< ${RSS_TARGET_MB} MB`, rssMb < RSS_TARGET_MB),
    `${timings.planning.toFixed(2)} / ${timings.rendering.toFixed(2)} / ${timings.assembling.toFixed(2)} s`,
    `${frames} ${problems.length === 0 ? '✓' : '✗'}`,
  ];
}

/** A number with its target beside it, marked met or missed; just the number where there is no target. */
function withTarget(value: string, target: number | undefined, wanted: string, met: boolean): string {
  return target === undefined ? value : `${value} ${met ? '✓' : '✗'} (target ${wanted})`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
