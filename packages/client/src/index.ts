/**
 * @flathub-fetch/client — download Flatpak/OSTree content with static deltas first, every
 * object verified, and every request on the record.
 *
 * Layers (each imports only from those above it; `errors` from anywhere):
 *   gvariant → formats → (http, repo, trust) → remote → pull → (api, diagnostics) → (mirrors, install) → report → exporter.
 * `remote` opens a repository over HTTP (summaries, refs, deltas); `trust` is OpenPGP verification (keyring, detached signatures); `diagnostics` turns a pull's
 * records into reports; `mirrors` checks mirrors against a primary with the layers above;
 * `install` downloads into flatpak installations (their remotes, locks, related refs) for flatpak to deploy; `report`
 * renders pulls, comparisons, mirror checks and doctor results as one self-contained HTML page; `exporter` serves
 * pull, mirror and doctor probes to Prometheus (blackbox_exporter's /probe conventions).
 */
export * from './errors/index.js';
export * from './gvariant/index.js';
export * from './formats/index.js';
export * from './http/index.js';
export * from './remote/index.js';
export * from './api/index.js';
export * from './repo/index.js';
export * from './diagnostics/index.js';
export * from './trust/index.js';
export * from './mirrors/index.js';
export * from './report/index.js';
export * from './exporter/index.js';
export * from './install/index.js';
