/**
 * A console route kept in its own module (benchmarks, a run's files, competitions, environment
 * sessions): what it matches and how it answers, with what the server gives every route.
 */
import type http from 'node:http';
import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../../../activities/artifacts.js';

/** The token check decisions use, for any other action that changes something (a retry). */
export type Authorization =
  | { ok: true; headers: http.OutgoingHttpHeaders; decider: string }
  | { ok: false; status: number; text: string };

export interface RouteContext {
  client: Client;
  store: ArtifactStore;
  url: URL;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  /** The pattern's groups, URL-decoded. */
  params: string[];
  /** The workflow in the Temporal UI, when its address is known. */
  temporalLink(workflowId: string): string | undefined;
  /** Whether the console was started with --allow-decisions. */
  decisionsAllowed: boolean;
  /** Whether this browser already holds the token (no token field needed on forms). */
  tokenRemembered: boolean;
  /** Reads a form post (size-limited). */
  readForm(): Promise<URLSearchParams>;
  /** Checks the token (form field or cookie) and the post's origin; `headers` sets the cookie on first use. */
  authorize(form: URLSearchParams): Authorization;
  /** Sends an HTML page (or other text with `content-type` in headers) with the console's security headers. */
  send(status: number, body: string | Buffer, headers?: http.OutgoingHttpHeaders): void;
  /** Remembers a one-line outcome and returns its key (`?notice=<key>` shows it once, post/redirect/get). */
  remember(kind: 'ok' | 'error', text: string): string;
  notice(key: string | null): { kind: 'ok' | 'error'; text: string } | undefined;
}

export interface UiRoute {
  method: 'GET' | 'POST';
  /** Matched against the decoded-by-segment path; groups become `params`. */
  path: RegExp;
  handle(ctx: RouteContext): Promise<void>;
}
