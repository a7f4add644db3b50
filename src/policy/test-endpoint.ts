/** Tests only: a loopback HTTP server standing in for an OpenAI-compatible endpoint. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

let servers: Server[] = [];

/** Starts a loopback server answering with `reply(body, requestNumber, req, res)`; its base URL (…/v1). */
export async function fakeEndpoint(reply: (body: Record<string, unknown>, n: number, req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => reply(JSON.parse(raw) as Record<string, unknown>, ++n, req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
}

/** Closes every server `fakeEndpoint` started (call in afterEach). */
export async function closeFakeEndpoints(): Promise<void> {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  servers = [];
}

/** A chat/completions reply with `content` and a completion-token count. */
export function okReply(res: ServerResponse, content: string, tokens = 3): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ choices: [{ message: { role: "assistant", content }, text: content }], usage: { completion_tokens: tokens } }));
}
