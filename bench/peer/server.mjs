// The bench's peer: chargegate's station search as a team would write it on GraphQL Yoga, from the
// same stations in memory (a snapshot of the gateway's catalogue, statuses and tariffs, written by
// bench/snapshot.py) and the same SDL (schema.graphql): radius search, status, price in force now,
// global IDs and cursors in the gateway's format, so the answers can be compared.
//
//   node server.mjs SNAPSHOT.json SCHEMA.graphql [--port 0]
//
// Prints "peer listening on http://127.0.0.1:PORT/graphql" once it accepts requests.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { createSchema, createYoga } from "graphql-yoga";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: "string", default: "0" } },
});
if (positionals.length !== 2) {
  console.error("usage: node server.mjs SNAPSHOT.json SCHEMA.graphql [--port P]");
  process.exit(2);
}
const snapshot = JSON.parse(readFileSync(positionals[0], "utf8"));
const typeDefs = readFileSync(positionals[1], "utf8");
const { stations, tariffs } = snapshot;

const EARTH_RADIUS_KM = 6371.0088;
const KM_PER_DEG_LAT = (Math.PI * EARTH_RADIUS_KM) / 180;
const SEP = "\x1f";
const rad = (deg) => (deg * Math.PI) / 180;

function haversineKm(lat1, lon1, lat2, lon2) {
  const p1 = rad(lat1);
  const p2 = rad(lat2);
  const dp = p2 - p1;
  const dl = rad(lon2 - lon1);
  const a = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

// Python's repr() of a float, as the gateway's cursors hold it.
function pyFloat(x) {
  if (Number.isInteger(x)) return `${x}.0`;
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) return String(x);
  const [mantissa, exponent] = x.toExponential().split("e");
  const e = Number(exponent);
  return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

const globalId = (kind, ...parts) => Buffer.from([kind, ...parts].join(SEP)).toString("base64url");
const cursor = (distance, op, id) =>
  Buffer.from(["DISTANCE", "0", "0", pyFloat(distance), op, id].join(SEP))
    .toString("base64")
    .replaceAll("+", "-")
    .replaceAll("/", "_");

const clocks = new Map();
// Seconds since local midnight in `timeZone`, at `now`.
function localSecond(timeZone, now) {
  let clock = clocks.get(timeZone);
  if (!clock) {
    clock = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      hourCycle: "h23",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    clocks.set(timeZone, clock);
  }
  const p = {};
  for (const { type, value } of clock.formatToParts(now)) p[type] = value;
  return Number(p.hour) * 3600 + Number(p.minute) * 60 + Number(p.second) + now.getUTCMilliseconds() / 1000;
}

// The total per-kWh price in force at `second` (before the first start: the last period's).
function totalAt(tariff, second) {
  const { starts, totals } = tariff;
  let i = starts.length - 1;
  for (let j = 0; j < starts.length && starts[j] <= second; j++) i = j;
  return totals[i];
}

function search(lat, lon, radiusKm) {
  const dlat = radiusKm / KM_PER_DEG_LAT;
  const hits = [];
  for (const s of stations) {
    if (Math.abs(s.lat - lat) > dlat) continue;
    const d = haversineKm(lat, lon, s.lat, s.lon);
    if (d <= radiusKm) hits.push({ d, s });
  }
  hits.sort(
    (a, b) =>
      a.d - b.d ||
      (a.s.operator_id < b.s.operator_id ? -1 : a.s.operator_id > b.s.operator_id ? 1 : 0) ||
      (a.s.id < b.s.id ? -1 : a.s.id > b.s.id ? 1 : 0),
  );
  return hits;
}

const resolvers = {
  Query: {
    stations(_, { near, radiusKm, first }, context) {
      const hits = search(near.lat, near.lon, radiusKm);
      const page = hits.slice(0, first);
      const edges = page.map(({ d, s }) => ({
        cursor: cursor(d, s.operator_id, s.id),
        distanceKm: Number(d.toFixed(3)),
        node: s,
      }));
      context.now = new Date();
      context.seconds = new Map();
      return {
        totalCount: hits.length,
        pageInfo: { hasNextPage: page.length < hits.length, endCursor: edges.length ? edges.at(-1).cursor : null },
        edges,
      };
    },
  },
  Station: {
    id: (s) => globalId("Station", s.operator_id, s.id),
    operator: (s) => ({ id: globalId("Operator", s.operator_id), name: s.operator_name }),
    location: (s) => ({ lat: s.lat, lon: s.lon }),
    connectors: (s) => s.connectors.map((c) => ({ c, s })),
  },
  Connector: {
    id: ({ c, s }) => globalId("Connector", s.operator_id, c.id),
    type: ({ c }) => c.type,
    powerType: ({ c }) => c.power_type,
    maxPowerKw: ({ c }) => c.max_power_kw,
    status: ({ c }) => c.status,
    statusUpdatedAt: ({ c }) => c.status_at,
    currentPrice({ c, s }, _, context) {
      if (c.tariff === null) return null;
      const tariff = tariffs[c.tariff];
      let second = context.seconds.get(s.timezone);
      if (second === undefined) {
        second = localSecond(s.timezone, context.now);
        context.seconds.set(s.timezone, second);
      }
      return { totalPerKwh: { amount: totalAt(tariff, second), currency: tariff.currency } };
    },
  },
};

const yoga = createYoga({
  schema: createSchema({ typeDefs, resolvers }),
  graphiql: false,
  landingPage: false,
  logging: "warn",
});

const server = createServer(yoga);
server.keepAliveTimeout = 75_000;
server.listen(Number(values.port), "127.0.0.1", () => {
  const { address, port } = server.address();
  console.log(`peer listening on http://${address}:${port}/graphql`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
