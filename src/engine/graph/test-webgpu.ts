/**
 * Test helper: whether the WebGPU device opens here. Outside CI a missing adapter skips the WebGPU
 * tests with a message; in CI (.ci/run sets CI=1 and installs Mesa's lavapipe) they run and fail
 * with the device's own error, so a broken driver install cannot pass silently.
 */
import { checkDevice } from "./device.js";

export const inCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false";

/** null when the adapter opened, else why not. */
export const webgpuMissing: string | null = await checkDevice("webgpu").then(
  () => null,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);

/** Skip the WebGPU tests (outside CI only, with a warning). */
export const skipWebgpu = webgpuMissing !== null && !inCi;
if (skipWebgpu) console.warn(`WebGPU tests skipped: ${webgpuMissing}`);

/** Call first in each WebGPU test: throws the device's error when it did not open (in CI). */
export async function requireWebgpu(): Promise<void> {
  await checkDevice("webgpu");
}
