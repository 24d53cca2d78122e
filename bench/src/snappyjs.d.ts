// snappyjs ships no type declarations; the bench compares against its decoder.
declare module 'snappyjs' {
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
