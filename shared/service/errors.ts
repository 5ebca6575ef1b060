// The service's domain errors: what went wrong in the client's terms (invalid input, no such
// thing, a conflicting state, no room for another job), with no HTTP in them. The API maps them
// to status codes in one place (shared/api/http.ts: apiErrorOf).

export interface ErrorDetail {
  /** the field or header at fault ("" for the whole input) */
  path: string;
  message: string;
}

export type ServiceErrorKind = "invalid" | "not_found" | "conflict" | "busy";

export class ServiceError extends Error {
  override name = "ServiceError";
  constructor(
    readonly kind: ServiceErrorKind,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Input the service cannot take (`code`: a more specific error code, e.g. "invalid_spec"). */
export const invalid = (message: string, details: ErrorDetail[] = [], code?: string) =>
  new ServiceError("invalid", message, details, code);
export const notFound = (what: string) => new ServiceError("not_found", `${what} not found`);
export const conflict = (message: string, details: ErrorDetail[] = []) =>
  new ServiceError("conflict", message, details);
/** The service is at its limit of queued and running jobs. */
export const busy = (message: string) => new ServiceError("busy", message, [], "too_many_jobs");
