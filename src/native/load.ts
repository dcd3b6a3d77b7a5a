/**
 * How src/native reaches a shared library: koffi, loaded through require (it is a CommonJS addon).
 * Loading never throws. Off Linux, without koffi's prebuilt binary, or without the library or one
 * of its symbols, `loadNative` returns null, and the caller takes its portable path.
 */
import { createRequire } from 'node:module';

export type Koffi = typeof import('koffi');
export type KoffiLib = ReturnType<Koffi['load']>;
/** A koffi function: called directly it runs on the main thread; `.async` runs it on the thread pool. */
export type NativeFn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

export function loadNative<T>(library: string, bind: (lib: KoffiLib, koffi: Koffi) => T | null): T | null {
  if (process.platform !== 'linux') return null;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    return bind(koffi.load(library), koffi);
  } catch {
    return null;
  }
}
