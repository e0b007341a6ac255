declare module 'macaroon' {
  interface Macaroon {
    addFirstPartyCaveat(caveat: string | Uint8Array): void;
    exportBinary(): Uint8Array;
  }
  const macaroon: {
    newMacaroon(options: { identifier: Uint8Array | string; location?: string; rootKey: Uint8Array | string; version?: 1 | 2 }): Macaroon;
  };
  export default macaroon;
}
