// The storage module's public surface.
export * from './local-storage.ts';
export * from './storage.ts';
