// Assembles the API: the service over its store, engine and scheduler, the route table, the
// OpenAPI document and the router with the caller check. The local server and the Lambda
// function each build one with their own engine, scheduler and authentication.

import { openApiDocument } from "./openapi.ts";
import { apiRoutes } from "./routes.ts";
import { router, type Authenticate, type Router } from "./router.ts";
import { Service } from "../service/service.ts";
import type { ServiceOptions } from "../service/ports.ts";

export interface Api {
  service: Service;
  router: Router;
}

export function createApi(
  opts: ServiceOptions & {
    authenticate: Authenticate;
    auth: "bearer" | "sigv4";
    onError: (id: string, e: unknown) => void;
  },
): Api {
  const service = new Service(opts);
  let doc: unknown;
  const routes = apiRoutes(service, () => (doc ??= openApiDocument(routes, { auth: opts.auth })));
  return { service, router: router(routes, opts.authenticate, opts.onError) };
}
