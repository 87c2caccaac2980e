/** Statuses that mean "this file does not exist here" (libostree's rule too); never retried. */
export const MISSING_STATUSES: ReadonlySet<number> = new Set([403, 404, 410]);
