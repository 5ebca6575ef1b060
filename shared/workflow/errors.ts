// The workflow's named error: a job or event the state machine cannot run as it is.

export class WorkflowError extends Error {
  override name = "WorkflowError";
}
