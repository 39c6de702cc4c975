// The media module's public surface.
export * from './binaries.ts';
export * from './ffmpeg-features.ts';
export * from './run-ffmpeg.ts';
export * from './process-limits.ts';
export * from './probe.ts';
export type { CodingFacts, VideoColour } from './input-description.ts';
export * from './sniff.ts';
export * from './source-limits.ts';
export * from './read-input.ts';
export * from './address-guard.ts';
export * from './fetch-source.ts';
export * from './source-store.ts';
export * from './guarded-agent.ts';
export * from './post-json.ts';
export * from './write-atomically.ts';
export * from './ffmpeg-message.ts';
export * from './disk-full.ts';
