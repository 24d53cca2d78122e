/**
 * The part of the WebAssembly API the hand-written modules (snappy-decode.wat, byte-search.wat) use: Node
 * has it, but neither the ES lib nor @types/node 20 declares it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: Record<string, Record<string, unknown>>) => { readonly exports: unknown };
}

export const wasmApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export const WASM_PAGE = 65536;
