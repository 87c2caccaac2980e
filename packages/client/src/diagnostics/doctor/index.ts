export { diagnoseConnection } from './diagnoseConnection.js';
export type { DiagnoseConnectionOptions, DoctorEvent } from './DoctorOptions.js';
export {
  DOCTOR_SCHEMA,
  type AddressFamily,
  type AddressProbe,
  type DnsAnswer,
  type DoctorFinding,
  type DoctorRequest,
  type DoctorResult,
  type LatencyFigures,
  type RangeCheck,
  type TlsFacts,
} from './DoctorResult.js';
export { renderDoctorMarkdown, renderDoctorText } from './renderDoctor.js';
export { doctorToPrometheus } from './doctorToPrometheus.js';
