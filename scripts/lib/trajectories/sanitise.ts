/**
 * Strips secrets and this machine's absolute paths from every string of an exported record, so a
 * trajectory file can be shared or trained on. Secrets: the values of the environment's
 * key/token/secret/password variables, and well-known key shapes. Paths: the lab's own folders,
 * the home folder and temp folders, each replaced by a placeholder such as `<workspace>`.
 */
import os from 'node:os';
import path from 'node:path';
import { artifactRoot, labHome, PROJECT_ROOT, sandboxVenvDir, workspaceRoot } from '../../../activities/config.js';

export interface SanitiserOptions {
  /** Environment whose secret-looking variables are stripped (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Folders replaced by a placeholder, e.g. `{ '/home/me/.lab/workspaces': '<workspace>' }`; the longest wins. */
  paths?: Record<string, string>;
  /** Temp folders: any `<tmp>/<name>` below them becomes `<tmp>` (default: os.tmpdir() and /tmp). */
  tempDirs?: string[];
}

/** Variable names whose values are secrets: *_KEY, *_TOKEN, *_SECRET, *_PASSWORD and the like. */
const SECRET_NAME = /(^|_)(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$|API_?KEY|ACCESS_?KEY|SECRET|PRIVATE_?KEY/i;
/** Shorter values are too likely to be ordinary words or numbers to cut out of text. */
const MIN_SECRET_LENGTH = 8;

/** Known key shapes, whether or not they are in this environment. */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '<secret:private-key>'],
  [/\bsk-ant-[A-Za-z0-9_-]{8,}/g, '<secret:anthropic-key>'],
  [/\bsk-(?:proj-|or-v1-|svcacct-)?[A-Za-z0-9_-]{16,}/g, '<secret:api-key>'],
  // A digit in the credential keeps prose ("Bearer authentication", "Basic statistics") as it is.
  [/\b(Bearer|Basic)\s+(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}/g, '$1 <secret>'],
  [/\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b/g, '<secret:aws-access-key-id>'],
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, '<secret:github-token>'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/g, '<secret:slack-token>'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, '<secret:google-api-key>'],
  [/\bhf_[A-Za-z0-9]{30,}/g, '<secret:huggingface-token>'],
  // NAME=value / "name": "value" where the name says it is a secret (AWS secret keys have no shape of their own).
  [
    // The look-ahead keeps code (`api_key = os.environ["X"]`, `password = ask()`) as it is.
    /\b([A-Za-z0-9_]*(?:api[_-]?key|secret[_-]?(?:access[_-]?)?key|access[_-]?token|auth[_-]?token|password|client[_-]?secret)["']?\s*[:=]\s*["']?)([A-Za-z0-9_\-+/=.]{8,})(?![A-Za-z0-9_\-+/=.([])/gi,
    '$1<secret>',
  ],
];

export type Sanitiser = <T>(value: T) => T;

/** The lab's folders this process knows of, each with its placeholder. */
export function labPaths(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  // Later entries win where two are the same folder (the project is often the current folder).
  const paths: Record<string, string> = {
    [process.cwd()]: '<cwd>',
    [os.homedir()]: '<home>',
    [PROJECT_ROOT]: '<project>',
    [labHome(env)]: '<lab_home>',
    [artifactRoot()]: '<artifacts>',
    [workspaceRoot()]: '<workspace>',
    [sandboxVenvDir()]: '<sandbox_python>',
  };
  return paths;
}

export function createSanitiser(options: SanitiserOptions = {}): Sanitiser {
  const env = options.env ?? process.env;
  const secrets = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value && value.trim().length >= MIN_SECRET_LENGTH)
    .map(([name, value]) => [value!.trim(), `<secret:${name}>`] as const)
    // Longest first, so a value that contains another is replaced whole.
    .sort((a, b) => b[0].length - a[0].length);
  const folders = Object.entries(options.paths ?? labPaths(env))
    .map(([folder, placeholder]) => [stripSlash(folder), placeholder] as const)
    // The root folder would match every path.
    .filter(([folder]) => folder.length > 1)
    .sort((a, b) => b[0].length - a[0].length);
  const temps = [...new Set((options.tempDirs ?? [os.tmpdir(), '/tmp', '/var/tmp']).map(stripSlash).filter((d) => d.length > 1))];

  const folderRules = folders.map(([folder, placeholder]) => [new RegExp(`${escape(folder)}(?![A-Za-z0-9._-])`, 'g'), placeholder] as const);
  // A temp folder's own name (lab-export-Xy12) says nothing useful and may be unique to this machine.
  const tempRules = temps.map((dir) => new RegExp(`${escape(dir)}/[A-Za-z0-9._-]+`, 'g'));

  const text = (s: string): string => {
    let out = s;
    for (const [value, placeholder] of secrets) out = out.split(value).join(placeholder);
    for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
    for (const [pattern, placeholder] of folderRules) out = out.replace(pattern, placeholder);
    for (const pattern of tempRules) out = out.replace(pattern, '<tmp>');
    return out;
  };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return text(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}

function stripSlash(folder: string): string {
  const resolved = path.resolve(folder);
  return resolved.length > 1 ? resolved.replace(/\/+$/, '') : resolved;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
