// The storage module's public surface.
export * from './local-storage.ts';
export * from './s3-storage.ts';
export * from './storage.ts';
export * from './storage-config.ts';
export * from './storage-errors.ts';
