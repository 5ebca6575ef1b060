// A forward model served over HTTP by its own process, for the http forward's tests: G(u) = A·u + b
// (A and b from argv as JSON), with injected trouble: every member at position 2 of a request is
// answered null (a failed member), every 4th request answers only after SLOW_MS (past the
// client's timeout), every 7th answers 500. Prints "listening <port>" once up.
// Usage: node simulatorServer.mjs '<{"A": [[…]], "b": […], "slowMs": 2000}>'
import { createServer } from "node:http";

const { A, b, slowMs } = JSON.parse(process.argv[2]);
let requests = 0;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    const nth = ++requests;
    const answer = (status, value) => {
      if (!res.destroyed) {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      }
    };
    if (nth > 1 && nth % 7 === 0) return answer(500, { error: "injected failure" });
    const { theta } = JSON.parse(body);
    const outputs = theta.map((u, i) =>
      nth > 1 && i === 2 ? null : A.map((row, r) => row.reduce((s, a, j) => s + a * u[j], b[r])),
    );
    if (nth > 1 && nth % 4 === 0) setTimeout(() => answer(200, { outputs }), slowMs);
    else answer(200, { outputs });
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening ${server.address().port}`));
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
