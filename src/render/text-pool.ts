// Text layers are laid out and drawn, and their fontUrl fonts read, on a few worker threads:
// whatever a tenant's text or font costs is spent there, never on the event loop that answers
// the API, reads ffmpeg's progress and renews leases. Each draw has a time limit, past which
// its thread is stopped and the layer fails; each thread takes its draws in turns by render
// (scene-pool.ts), so one render's many layers hold another's back one draw at most.
//
// Skia's fonts are one collection for the whole process, and it keys a typeface by its bytes:
// two threads registering the same file would share it, and one removing it would pull it from
// under the other. So a fontUrl font is only ever drawn on one thread (chosen by its digest),
// which keeps its own fonts within its share of the budget and removes the least recently used.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AbortedError } from '../media/index.ts';
import type { TextLayer } from '../movie/index.ts';
import { ScenePool } from './scene-pool.ts';
import { DEFAULT_TEXT_LIMITS, type TextLimits } from './text-limits.ts';
import type { Region } from './visible-region.ts';

export interface TextDraw {
  layer: TextLayer;
  /** The layer's fontUrl file. */
  font?: { path: string; digest: string };
  /** Where the PNG goes; none when the layer is never seen (its font is read all the same). */
  out?: string;
  /** The part of the box drawn (default: all of it). */
  region?: Region;
}

export interface TextDrawn {
  /** Why the fontUrl file is refused (too large, or not a font Skia and we can read): nothing drawn. */
  refused?: string;
  /** Code points no font has. */
  missing: number[];
}

export type ToThread =
  | { kind: 'draw'; id: number; draw: TextDraw }
  | { kind: 'forget'; fonts: Array<[string, string]> };
export type FromThread =
  | { id: number; kind: 'holding'; fonts: Array<[string, string]> }
  | { id: number; kind: 'drawn'; drawn: TextDrawn }
  | { id: number; kind: 'failed'; message: string };

/** A draw that passed its time limit or took its thread down: the layer's fault, told with its id and path by the planner. */
export class TextDrawError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TextDrawError';
  }
}

interface Slot {
  worker?: Worker;
  /** Its draws, one at a time, in turns by render. */
  queue: ScenePool;
  /** Draws sent here and not finished. */
  waiting: number;
  /** The fontUrl fonts its thread holds registered, [digest, path]: removed by the next thread if this one is stopped. */
  held: Array<[string, string]>;
  /** Settles the draw in progress. */
  current?: { id: number; settle: (result: Error | TextDrawn) => void };
}

export class TextPool {
  private readonly slots: Slot[];
  private nextId = 0;

  /** `orphans`: fontUrl fonts a closed pool's threads left registered, [digest, path], for these threads to remove. */
  constructor(
    readonly limits: TextLimits,
    orphans: Array<[string, string]> = [],
  ) {
    this.slots = Array.from({ length: Math.max(1, limits.threads) }, () => ({
      queue: new ScenePool(1),
      waiting: 0,
      held: [],
    }));
    for (const font of orphans) this.slots[slotOf(font[0], this.slots.length)].held.push(font);
  }

  /** Draws a text layer (or only reads its font) on a text thread; `owner`: the render it is for. */
  draw(draw: TextDraw, owner: string, signal?: AbortSignal): Promise<TextDrawn> {
    const slot = draw.font
      ? this.slots[slotOf(draw.font.digest, this.slots.length)]
      : this.slots.reduce((least, slot) => (slot.waiting < least.waiting ? slot : least));
    slot.waiting++;
    return slot.queue
      .run(owner, 1, () => {
        if (signal?.aborted) throw new AbortedError();
        return this.run(slot, draw, signal);
      })
      .finally(() => slot.waiting--);
  }

  /** Stops the threads (a draw in progress fails); drawing again starts new ones, which remove the fonts these left. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.stop(slot, new TextDrawError('the text threads were closed'))));
  }

  /** The fontUrl fonts its threads hold or left registered, [digest, path]. */
  fonts(): Array<[string, string]> {
    return this.slots.flatMap((slot) => slot.held);
  }

  /** Sends the draw to the slot's thread; a cancel meanwhile stops the thread, so the next render's draw need not wait it out. */
  private run(slot: Slot, draw: TextDraw, signal?: AbortSignal): Promise<TextDrawn> {
    const worker = slot.worker ?? this.start(slot);
    const id = this.nextId++;
    return new Promise<TextDrawn>((resolve, reject) => {
      const timer = setTimeout(
        () => this.stop(slot, new TextDrawError(`took longer than ${this.limits.drawSeconds} s to lay out and draw`)),
        this.limits.drawSeconds * 1000,
      );
      const cancel = () => void this.stop(slot, new AbortedError());
      signal?.addEventListener('abort', cancel, { once: true });
      slot.current = {
        id,
        settle: (result) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', cancel);
          slot.current = undefined;
          worker.unref();
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      worker.ref();
      worker.postMessage({ kind: 'draw', id, draw } satisfies ToThread);
    });
  }

  private start(slot: Slot): Worker {
    const worker = startThread(this.limits, this.slots.length);
    slot.worker = worker;
    worker.unref();
    if (slot.held.length > 0) worker.postMessage({ kind: 'forget', fonts: slot.held } satisfies ToThread);
    slot.held = [];
    worker.on('message', (message: FromThread) => {
      if (message.id !== slot.current?.id) return;
      if (message.kind === 'holding') slot.held = message.fonts;
      else if (message.kind === 'drawn') slot.current.settle(message.drawn);
      else slot.current.settle(new Error(message.message));
    });
    worker.on('error', (err: Error & { code?: string }) =>
      this.lost(
        slot,
        worker,
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `needed more than ${this.limits.threadHeapMb} MB of memory to lay out and draw`
          : `stopped its text thread: ${err.message}`,
      ),
    );
    worker.on('exit', () => this.lost(slot, worker, 'stopped its text thread'));
    return worker;
  }

  /** Stops the slot's thread (its fonts are removed by the next) and fails its draw with `error`. */
  private async stop(slot: Slot, error: Error): Promise<void> {
    const worker = slot.worker;
    slot.worker = undefined;
    slot.current?.settle(error);
    await worker?.terminate();
  }

  private lost(slot: Slot, worker: Worker, reason: string): void {
    if (slot.worker === worker) void this.stop(slot, new TextDrawError(reason));
  }
}

/** The slot that draws with a fontUrl font, always the same one for the same file. */
function slotOf(digest: string, slots: number): number {
  let hash = 0;
  for (let i = 0; i < digest.length; i++) hash = (hash * 31 + digest.charCodeAt(i)) >>> 0;
  return hash % slots;
}

/** The thread's module beside this one: text-thread.ts run from the sources, text-thread.js when built. */
const THREAD_MODULE = new URL(`./text-thread${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

function startThread(limits: TextLimits, threads: number): Worker {
  const options = {
    workerData: { fontBytes: Math.floor(limits.fontBytes / threads), fontFileBytes: limits.fontFileBytes },
    resourceLimits: { maxOldGenerationSizeMb: limits.threadHeapMb },
  };
  if (!THREAD_MODULE.pathname.endsWith('.ts')) return new Worker(THREAD_MODULE, options);
  // run from the TypeScript sources (tests, development): a thread does not inherit tsx's loader (Node 20), so it registers it first
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(THREAD_MODULE.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}

let shared: TextPool | undefined;
let sharedLimits = DEFAULT_TEXT_LIMITS;

/** The process's text threads, started when first needed. */
export function textPool(): TextPool {
  return (shared ??= new TextPool(sharedLimits));
}

/** Sets the text threads' limits (at start-up: a pool already running is closed, its draws failing, and its fonts handed on). */
export function setTextLimits(limits: Partial<TextLimits>): void {
  sharedLimits = { ...DEFAULT_TEXT_LIMITS, ...limits };
  if (!shared) return;
  void shared.close();
  shared = new TextPool(sharedLimits, shared.fonts());
}
