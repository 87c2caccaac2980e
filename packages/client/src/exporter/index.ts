export {
  type ExporterConfig,
  type ExporterModule,
  loadExporterConfig,
  type MirrorModule,
  PROBERS,
  type ProberName,
  type PullModule,
  parseExporterConfig,
} from './ExporterConfig.js';
export {
  deadlineSeconds,
  type ExporterEvent,
  type ExporterHandle,
  type ExporterOptions,
  startExporter,
  TIMEOUT_MARGIN_SECONDS,
} from './ExporterServer.js';
export { type ProbeOutcome, runProbe } from './probes.js';
