// The API's routes: each parses its input (zod), calls the service and shapes the answer. The
// table also documents itself: openapi.ts turns the `doc` parts into GET /openapi.json. The routes
// are written per resource: jobRoutes.ts, datasetRoutes.ts, modelRoutes.ts.

import { datasetRoutes } from "./datasetRoutes.ts";
import { json } from "./http.ts";
import { jobRoutes } from "./jobRoutes.ts";
import { modelRoutes } from "./modelRoutes.ts";
import type { Route } from "./router.ts";
import type { Service } from "../service/service.ts";

export function apiRoutes(service: Service, openapi: () => unknown): Route[] {
  return [
    ...jobRoutes(service),
    ...datasetRoutes(service),
    ...modelRoutes(service),
    {
      method: "GET",
      path: "/openapi.json",
      mutates: false,
      public: true,
      doc: { summary: "This document.", responses: { 200: null } },
      handler: async () => json(200, openapi()),
    },
  ];
}
