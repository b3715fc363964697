/** See emit-server.mjs. */
export function emitServer(configFile: string): string[];
