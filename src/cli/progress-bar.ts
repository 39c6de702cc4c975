// The render progress bar: phase, scenes done, percent, ETA. On a terminal it redraws
// in place; otherwise it prints a line per phase and per 10 %.
import { SingleBar } from 'cli-progress';
import type { RenderProgress } from '../render/index.ts';

export function progressBar(stream: NodeJS.WriteStream = process.stderr) {
  if (!stream.isTTY) {
    let last = '';
    return {
      update(p: RenderProgress) {
        const line = `${p.phase} ${Math.floor(p.progress * 10) * 10}% scenes ${p.scenesDone}/${p.scenesTotal}`;
        if (line !== last) stream.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  const bar = new SingleBar({
    stream,
    format: '{phase} |{bar}| {percentage}% | scenes {scenesDone}/{scenesTotal} | ETA {timeLeft}',
    hideCursor: true,
    etaBuffer: 20,
  });
  const started = Date.now();
  bar.start(100, 0, { phase: 'planning   ', scenesDone: 0, scenesTotal: 0, timeLeft: '--' });
  return {
    update(p: RenderProgress) {
      bar.update(Math.round(p.progress * 100), {
        phase: p.phase.padEnd(11),
        scenesDone: p.scenesDone,
        scenesTotal: p.scenesTotal,
        timeLeft: eta(p.progress, Date.now() - started),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Time left at the pace so far; "--" until there is a pace to go by. */
export function eta(progress: number, elapsedMs: number): string {
  if (progress <= 0.05 || progress >= 1) return progress >= 1 ? '0s' : '--';
  const seconds = Math.round(((elapsedMs / progress) * (1 - progress)) / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}
