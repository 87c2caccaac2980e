/**
 * @flathub-fetch/client — download Flatpak/OSTree content with static deltas first, every
 * object verified, and every request on the record.
 *
 * Layers (each imports only from those above it): gvariant → formats → (http, repo) → pull → api.
 */
export * from './errors/index.js';
export * from './gvariant/index.js';
export * from './formats/index.js';
export * from './http/index.js';
export * from './api/index.js';
export * from './repo/index.js';
export * from './diagnostics/index.js';
export * from './trust/index.js';
export * from './mirrors/index.js';
