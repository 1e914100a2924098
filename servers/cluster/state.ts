/**
 * What `lab cluster up` records: `cluster.json` (what it started: pids, ports, binaries) and
 * `database.json` (how the database was made, which outlives every run of the server). Written
 * atomically (temp file + rename); read back leniently (a missing or torn file reads as none).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterPorts } from './layout.js';

export interface ClusterState {
  /** `127.0.0.1:<port>`: what TEMPORAL_ADDRESS should be on this host. */
  address: string;
  /** Where the frontend listens (absent in states written before `--listen`: 127.0.0.1). */
  listen?: string;
  /** Mutual TLS: the CA and the client certificate every client needs, and the names the frontend answers to. */
  tls?: { dir: string; ca: string; clientCert: string; clientKey: string; hosts: string[] } | null;
  namespace: string;
  historyShards: number;
  temporalVersion: string;
  ports: ClusterPorts;
  server: { pid: number; bin: string; log: string; config: string };
  ui: { pid: number; bin: string; log: string; url: string; version: string } | null;
  postgres: { dataDir: string; port: number; binDir: string; version: string; user: string | null; log: string };
  startedAt: string;
}

export interface DatabaseRecord {
  historyShards: number;
  /** The server version whose schema was last applied. */
  schemaVersion: string;
  createdAt: string;
  /** The PostgreSQL data folder this record belongs to. */
  dataDir: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeJson(file: string, value: unknown, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(tmp, file);
}

export const readState = (file: string) => readJson<ClusterState>(file);

/** Where the frontend listens unless `--listen` says otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1';
/** Where a recorded cluster's frontend listens (states written before `--listen` have no field: the default). */
export const listenOf = (state: ClusterState) => state.listen ?? DEFAULT_LISTEN;
export const readDatabaseRecord = (file: string) => readJson<DatabaseRecord>(file);
export const removeFile = (file: string) => rmSync(file, { force: true });
