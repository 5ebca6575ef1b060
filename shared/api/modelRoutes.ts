// The API's model and schedule routes: models, their versions and champion (as ONNX), promotion,
// and the schedules that retrain them.

import {
  ModelList,
  ModelVersion,
  ModelVersionList,
  ModelView,
  PromoteRequest,
  ScheduleCreate,
  ScheduleList,
  ScheduleView,
} from "../spec/api.ts";
import { json, jsonBody, download } from "./http.ts";
import type { Route } from "./router.ts";
import type { Service } from "../service/service.ts";
import { exportOnnx } from "../predict/onnxExport.ts";

export function modelRoutes(service: Service): Route[] {
  return [
    {
      method: "GET",
      path: "/models",
      mutates: false,
      doc: {
        summary: "List models: each a named pointer to its champion job, created by its first promotion.",
        responses: { 200: ModelList },
      },
      handler: async () => json(200, { models: await service.models.list() }),
    },
    {
      method: "GET",
      path: "/models/{name}",
      mutates: false,
      doc: {
        summary:
          "A model: its champion (job, dataset version, metrics, when and by whom promoted) and how " +
          "many decisions it has.",
        responses: { 200: ModelView },
      },
      handler: async (_req, p) => json(200, await service.models.get(p.name)),
    },
    {
      method: "GET",
      path: "/models/{name}/versions",
      mutates: false,
      doc: {
        summary:
          "Every decision about the model, oldest first: the job, its dataset version, both models' " +
          "metrics on the job's validation split, promoted or not and why, when and by whom.",
        responses: { 200: ModelVersionList },
      },
      handler: async (_req, p) => json(200, await service.models.versions(p.name)),
    },
    {
      method: "GET",
      path: "/models/{name}/model.onnx",
      mutates: false,
      doc: {
        summary:
          "The champion as a standalone ONNX file (as GET /jobs/{id}/model.onnx writes it). 409 " +
          "while the model has no champion.",
        responses: { 200: null },
      },
      async handler(_req, p) {
        const { card, theta, version } = await service.models.championModel(p.name);
        return download(`${p.name}-v${version}.onnx`, exportOnnx(card, theta));
      },
    },
    {
      method: "POST",
      path: "/models/{name}/promote",
      mutates: true,
      doc: {
        summary:
          "Make a succeeded job the model's champion by hand (the model is created if it does not " +
          "exist). Both models are measured on the job's validation split and the numbers recorded; " +
          "the pointer is replaced by a conditional write, so racing promotions are each recorded. " +
          "400 when the job's model has other features or outputs, 404 for an unknown job, 409 when " +
          "the job has not succeeded.",
        body: { schema: PromoteRequest },
        responses: { 200: ModelVersion },
      },
      async handler(req, p) {
        const body = jsonBody(req, PromoteRequest);
        return json(
          200,
          await service.models.promote(p.name, body.job, { rule: null, by: "POST /models/{name}/promote" }),
        );
      },
    },
    {
      method: "POST",
      path: "/schedules",
      mutates: true,
      doc: {
        summary: "Schedule a job template on a rate or cron expression.",
        body: { schema: ScheduleCreate },
        responses: { 201: ScheduleView },
      },
      async handler(req) {
        // a schedule's template is a job spec; the rest is the schedule's own
        const view = await service.schedules.create(
          jsonBody(req, ScheduleCreate, "bad_request", (path) =>
            path[0] === "template"
              ? "the job spec"
              : path[0] === "promote"
                ? "a schedule's promotion rule"
                : "a schedule",
          ),
        );
        return json(201, view, { location: `/schedules/${view.id}` });
      },
    },
    {
      method: "GET",
      path: "/schedules",
      mutates: false,
      doc: { summary: "List schedules.", responses: { 200: ScheduleList } },
      handler: async () => json(200, { schedules: await service.schedules.list() }),
    },
    {
      method: "DELETE",
      path: "/schedules/{id}",
      mutates: true,
      doc: { summary: "Delete a schedule (jobs it submitted are not touched).", responses: { 204: null } },
      async handler(_req, p) {
        await service.schedules.delete(p.id);
        return { status: 204, headers: {}, body: "" };
      },
    },
  ];
}
