/**
 * RC4 (ARCFOUR), written by hand because OpenSSL 3 only offers it in the legacy provider.
 * NTLMSSP needs it for KEY_EXCH and for sealing signatures ([MS-NLMP] 3.4.4.2).
 * A stateful stream: NTLM keeps one handle per direction for the life of the security context.
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Buffer) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k]! + key[k % key.length]!) & 0xff;
      const t = s[k]!;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  update(data: Buffer): Buffer {
    const out = Buffer.allocUnsafe(data.length);
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < data.length; k++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }
}

/** One-shot RC4 with a fresh key schedule. */
export function rc4(key: Buffer, data: Buffer): Buffer {
  return new Rc4(key).update(data);
}
