// Scenes rendered on other machines: a render given a dispatch offers its uncached scenes,
// then for each either renders it here (when it can claim it) or waits until another
// machine has put it in the scene store. The engine knows only this interface; the job
// service implements it with its database (distributed mode).
import { AbortedError } from '../media/index.ts';

export interface SceneDispatch {
  /** The scenes the store lacks, for other machines to take. */
  offer(scenes: Array<{ index: number; key: string }>): Promise<void>;
  /** 'here': this render renders the scene; 'elsewhere': another machine has it. */
  claim(index: number, key: string, signal: AbortSignal): Promise<'here' | 'elsewhere'>;
  /** A scene claimed 'here' is in the store. */
  rendered(index: number, key: string): Promise<void>;
  /**
   * Resolves once a scene rendered elsewhere is in the store ('done'), or free to claim
   * again ('free': its machine stopped); throws the reason it failed there. `onFrames`: the
   * frames the other machine has encoded, as they are known.
   */
  settled(
    index: number,
    key: string,
    signal: AbortSignal,
    onFrames: (frames: number) => void,
  ): Promise<'done' | 'free'>;
}

/** What getting one scene takes, from the render. */
export interface SceneSteps {
  /** Runs `task` in a place of the scene pool (rendering here holds one; waiting for another machine does not). */
  slot<T>(task: () => Promise<T>): Promise<T>;
  /** Renders the scene here and keeps it in the store: its chunks. */
  render(): Promise<string[]>;
  /** Another machine renders it, now. */
  elsewhere(): void;
  /** Frames of it encoded so far (here or elsewhere). */
  frames(frames: number): void;
  /** The scene's chunks in the store, if there. */
  stored(): Promise<string[] | undefined>;
}

/** One uncached scene's chunks: rendered here, or (with a dispatch) by whichever machine claimed it. */
export async function sceneChunks(
  index: number,
  key: string,
  dispatch: SceneDispatch | undefined,
  steps: SceneSteps,
  signal: AbortSignal,
): Promise<string[]> {
  for (;;) {
    const here = await steps.slot(async () => {
      if (signal.aborted) throw new AbortedError();
      if (dispatch && (await dispatch.claim(index, key, signal)) === 'elsewhere') return undefined;
      const chunks = await steps.render();
      await dispatch?.rendered(index, key);
      return chunks;
    });
    if (here) return here;
    steps.elsewhere();
    if ((await dispatch!.settled(index, key, signal, steps.frames)) === 'free') continue;
    const stored = await steps.stored();
    if (!stored)
      throw new Error(
        `scene ${index} was rendered on another machine, but its chunks are not in the scene store (key ${key})`,
      );
    return stored;
  }
}
