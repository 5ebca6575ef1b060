// The API's dataset routes: register a dataset (a CSV upload streamed into the sharded format, or
// a location), add and list its versions, list and show datasets.

import { z } from "zod";
import { DatasetList, DatasetRegistration, DatasetUpload, DatasetView } from "../spec/api.ts";
import { DATASET_NAME } from "../spec/job.ts";
import { ApiError, badRequest, bodyPieces, intParam, json, jsonBody, mediaType, type ApiRequest } from "./http.ts";
import type { Route } from "./router.ts";
import type { Service } from "../service/service.ts";

const RegistrationBody = DatasetRegistration.extend({
  files: z
    .array(
      z.strictObject({ path: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
    )
    .min(2)
    .max(10_000),
});

const VersionRegistration = z
  .strictObject({
    kind: z.enum(["classification", "regression"]),
    columns: z
      .strictObject({ features: z.array(z.string()).min(1), label: z.string().optional() })
      .describe(
        "the columns of the manifest being uploaded (as enkf data writes them); checked against " +
          "version 1's now, and against the manifest when the version is read",
      ),
    files: RegistrationBody.shape.files,
  })
  .meta({ id: "DatasetVersionRegistration" });

const DatasetVersionView = z
  .object({ name: z.string(), version: z.int(), dataset: DatasetView })
  .meta({ id: "DatasetVersion" });
const DatasetVersionUpload = z
  .object({
    name: z.string(),
    version: z.int(),
    dataset: DatasetView,
    uploads: DatasetUpload.shape.uploads,
    expiresInSeconds: z.int(),
  })
  .meta({ id: "DatasetVersionUpload" });
const DatasetVersionList = z
  .object({ name: z.string(), versions: z.array(DatasetVersionView) })
  .meta({ id: "DatasetVersionList" });

/** A CSV upload's body (streamed) and query (label, kind, testFraction, seed); 400 names every bad parameter. */
function csvUpload(
  req: ApiRequest,
  problems: { path: string; message: string }[],
): {
  source: AsyncIterable<Uint8Array>;
  opts: { label: string; kind: "classification" | "regression"; testFraction: number; seed: number };
} {
  const label = req.query.label ?? "";
  const kind = req.query.kind ?? "classification";
  if (label === "") problems.push({ path: "label", message: "required: the name of the label column (?label=…)" });
  if (kind !== "classification" && kind !== "regression")
    problems.push({ path: "kind", message: `must be classification or regression, got "${kind.slice(0, 40)}"` });
  const testFraction = req.query.testFraction === undefined ? 0.2 : Number(req.query.testFraction);
  if (!(testFraction >= 0 && testFraction < 1))
    problems.push({
      path: "testFraction",
      message: `must be a number in [0, 1), got "${String(req.query.testFraction).slice(0, 40)}"`,
    });
  if (problems.length) throw badRequest("the upload's query parameters are not valid", problems);
  return {
    source: bodyPieces(req),
    opts: {
      label,
      kind: kind as "classification" | "regression",
      testFraction,
      seed: intParam(req, "seed", 0, 0, 2 ** 32 - 1),
    },
  };
}

export function datasetRoutes(service: Service): Route[] {
  return [
    {
      method: "POST",
      path: "/datasets",
      mutates: true,
      streamsBody: true,
      doc: {
        summary:
          "Register a dataset. text/csv: the upload itself (query name, label, kind, testFraction, " +
          "seed), stored in the sharded format. application/json: a registration of the sharded " +
          "format's files, answered with presigned upload URLs (S3 stores).",
        body: { schema: RegistrationBody, type: "application/json" },
        query: {
          name: "text/csv: the dataset's name",
          label: "text/csv: the label column",
          kind: "text/csv: classification (default) or regression",
          testFraction: "text/csv: held-out fraction (default 0.2)",
          seed: "text/csv: split seed (default 0)",
        },
        responses: { 201: z.union([DatasetView, DatasetUpload]) },
      },
      async handler(req) {
        const type = mediaType(req);
        if (type === "text/csv") {
          const name = req.query.name ?? "";
          const { source, opts } = csvUpload(
            req,
            DATASET_NAME.test(name)
              ? []
              : [
                  {
                    path: "name",
                    message:
                      name === ""
                        ? "required: the dataset's name (?name=…), 1–64 letters, digits, '.', '_' or '-'"
                        : "1–64 letters, digits, '.', '_' or '-', starting with a letter or digit",
                  },
                ],
          );
          const view = await service.datasets.uploadCsv(source, { name, ...opts });
          return json(201, view, { location: `/datasets/${view.id}` });
        }
        if (type !== "application/json")
          throw new ApiError(
            415,
            "unsupported_media_type",
            `send the data as text/csv (a CSV upload, with name and label in the query) or ` +
              `application/json (a registration of sharded ` +
              `files)${type ? `; got ${type}` : "; the request has no Content-Type"}`,
          );
        const body = jsonBody(req, RegistrationBody);
        return json(201, await service.datasets.registerUpload(body));
      },
    },
    {
      method: "POST",
      path: "/datasets/{name}/versions",
      mutates: true,
      streamsBody: true,
      doc: {
        summary:
          "Add a version to the named dataset {name} (created by its first version): text/csv, with " +
          "label, kind, testFraction and seed in the query as for POST /datasets; or, on S3 stores, " +
          "application/json { kind, columns, files } answered with presigned upload URLs as POST " +
          '/datasets answers ("latest" skips a version until its files are uploaded). A version is ' +
          "immutable; one whose columns differ from version 1's is refused (400, naming the " +
          "columns). Jobs name it with { source: dataset, name, version: latest | n }.",
        body: { schema: VersionRegistration, type: "application/json" },
        query: {
          label: "the label column",
          kind: "classification (default) or regression",
          testFraction: "held-out fraction (default 0.2)",
          seed: "split seed (default 0)",
        },
        responses: { 201: z.union([DatasetVersionView, DatasetVersionUpload]) },
      },
      async handler(req, p) {
        if (mediaType(req) === "application/json") {
          const v = await service.datasets.registerVersion(p.name, jsonBody(req, VersionRegistration));
          return json(201, v, { location: `/datasets/${p.name}/versions` });
        }
        if (mediaType(req) !== "text/csv")
          throw new ApiError(
            415,
            "unsupported_media_type",
            "send the version as text/csv, with the label column in the query, or as application/json " +
              "{ kind, columns, files } for presigned uploads (S3 stores)",
          );
        const { source, opts } = csvUpload(req, []);
        const v = await service.datasets.addVersion(p.name, source, opts);
        return json(201, v, { location: `/datasets/${p.name}/versions` });
      },
    },
    {
      method: "GET",
      path: "/datasets/{name}/versions",
      mutates: false,
      doc: {
        summary: "The versions of a named dataset, oldest first: each its number and its dataset.",
        responses: { 200: DatasetVersionList },
      },
      handler: async (_req, p) => json(200, { name: p.name, versions: await service.datasets.versions(p.name) }),
    },
    {
      method: "GET",
      path: "/datasets",
      mutates: false,
      doc: {
        summary: "List registered datasets, oldest first, a page at a time.",
        query: { limit: "1–100 (default 20)", cursor: "nextCursor of the previous page" },
        responses: { 200: DatasetList },
      },
      handler: async (req) =>
        json(200, await service.datasets.list(intParam(req, "limit", 20, 1, 100), req.query.cursor || undefined)),
    },
    {
      method: "GET",
      path: "/datasets/{id}",
      mutates: false,
      doc: {
        summary: "A registered dataset: pending until its files are uploaded, then ready.",
        responses: { 200: DatasetView },
      },
      handler: async (_req, p) => json(200, await service.datasets.get(p.id)),
    },
  ];
}
