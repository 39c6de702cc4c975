// What ffmpeg said, as a message a user may read: its last lines, with every file of ours
// called by what the user knows it as (a layer, an input, the output), never by a server path.

/** The last few lines of ffmpeg's stderr, on one line. */
export function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}

/**
 * A name for every `file:` argument: the caller's own names first, then inputs as ffmpeg
 * numbers them (`input #0`, the file after the first `-i`), and any other file as `other`.
 */
export function fileNames(
  args: readonly string[],
  given: ReadonlyMap<string, string>,
  other: string,
): Map<string, string> {
  const names = new Map(given);
  let inputs = 0;
  args.forEach((arg, i) => {
    const isInput = args[i - 1] === '-i';
    if (arg.startsWith('file:') && !names.has(arg.slice(5)))
      names.set(arg.slice(5), isInput ? `input #${inputs}` : other);
    if (isInput) inputs++;
  });
  return names;
}

/** `text` with each named path (with or without its `file:` prefix) replaced by its name. */
export function namePaths(text: string, names: ReadonlyMap<string, string>): string {
  // longest first, so a path is never half-replaced by one that is its prefix
  const paths = [...names.keys()].filter((p) => p.length > 0).sort((a, b) => b.length - a.length);
  return paths.reduce(
    (out, path) => out.split(`file:${path}`).join(names.get(path)!).split(path).join(names.get(path)!),
    text,
  );
}

/** Names for the files layers read (`layer "logo"`; `layers "a", "b"` when they share one). */
export function layerNames(files: Iterable<{ layerId: string; path: string }>): Map<string, string> {
  const byPath = new Map<string, string[]>();
  for (const { layerId, path } of files) byPath.set(path, [...(byPath.get(path) ?? []), `"${layerId}"`]);
  return new Map(
    [...byPath].map(([path, ids]) => [path, `${ids.length === 1 ? 'layer' : 'layers'} ${ids.join(', ')}`]),
  );
}
