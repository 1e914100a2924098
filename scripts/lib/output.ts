/** Printing, and the connection every server-talking command opens and closes. */
import { connectClient } from './client.js';

export const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
export const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

export async function withClient<T>(fn: (c: Awaited<ReturnType<typeof connectClient>>) => Promise<T>): Promise<T> {
  const c = await connectClient();
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
