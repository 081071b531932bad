export default async function globalTeardown(): Promise<void> {
  for (const server of globalThis.__testServers ?? []) await server.stop();
  globalThis.__testServers = undefined;
}
