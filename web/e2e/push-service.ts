// A stand-in for a browser vendor's push service, for the end-to-end suite: it takes the
// server's Web Push requests (RFC 8030) on loopback, checks VAPID (RFC 8292) and decrypts the
// aes128gcm payload (RFC 8291) with a subscription's private key, as the browser would.
import { type ECDH, createECDH, createDecipheriv, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';

const b64u = (buf: Uint8Array) => Buffer.from(buf).toString('base64url');
const unb64u = (s: string) => Buffer.from(s.replace(/=+$/, ''), 'base64url');
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** A browser-side subscription's keys: P-256 pair (p256dh) and the 16-byte auth secret. */
export interface SubscriptionKeys {
  ecdh: ECDH;
  authBytes: Buffer;
  p256dh: string;
  auth: string;
}

export function subscriptionKeys(): SubscriptionKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, authBytes: auth, p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) };
}

/** Decrypt an `aes128gcm` Web Push body for a subscription (RFC 8291 + RFC 8188). */
export function decryptWebPush(body: Buffer, keys: SubscriptionKeys): string {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  const uaPublic = keys.ecdh.getPublicKey();
  const shared = keys.ecdh.computeSecret(asPublic);
  const prkKey = hmac(keys.authBytes, shared);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const baseNonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const out = [];
  for (let seq = 0, off = 0; off < records.length; seq++, off += rs) {
    const rec = records.subarray(off, Math.min(off + rs, records.length));
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8); // seq < 2^32 records
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(rec.subarray(rec.length - 16));
    const plain = Buffer.concat([decipher.update(rec.subarray(0, rec.length - 16)), decipher.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0 || (plain[end] !== 1 && plain[end] !== 2)) throw new Error('bad record padding');
    out.push(plain.subarray(0, end));
    if (plain[end] === 2) break;
  }
  return Buffer.concat(out).toString('utf8');
}

/** A VAPID JWT's claims (RFC 8292): audience, expiry (seconds), subject. */
export type VapidClaims = { aud: string; exp: number; sub: string };

/** Parse and verify `vapid t=<JWT>, k=<key>`; returns {claims, key}. Throws when invalid. */
export function checkVapid(header: string | undefined): { claims: VapidClaims; key: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+=*)$/.exec(header ?? '');
  if (!m) throw new Error(`not a vapid Authorization header: ${header}`);
  const [jwt, key] = [m[1], m[2]];
  const [h, c, s] = jwt.split('.');
  const point = unb64u(key);
  if (point.length !== 65 || point[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const jwk = { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33)) };
  const ok = verify('sha256', Buffer.from(`${h}.${c}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, unb64u(s));
  if (!ok) throw new Error('VAPID JWT signature does not verify');
  const header_ = JSON.parse(unb64u(h).toString());
  if (header_.alg !== 'ES256') throw new Error(`VAPID alg ${header_.alg}`);
  return { claims: JSON.parse(unb64u(c).toString()) as VapidClaims, key };
}

export interface PushRequest {
  method: string | undefined;
  path: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The push service: every request is kept in `received` ({method, path, headers, body}). */
export class PushService {
  received: PushRequest[] = [];
  status = 201;
  origin = '';
  private server: Server | null = null;
  private events = new EventEmitter();

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(this.status, { Location: `${this.origin}/message/${this.received.length}` });
        res.end();
        this.events.emit('request');
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (!address || typeof address === 'string') throw new Error('push service: no port');
    this.origin = `http://127.0.0.1:${address.port}`;
    return this;
  }

  endpoint(name: string): string {
    return `${this.origin}/push/${name}`;
  }

  for(name: string): PushRequest[] {
    return this.received.filter((r) => r.path === `/push/${name}`);
  }

  /** Wait for the `n`th request (1-based) to `name`'s endpoint (as it arrives, no polling). */
  async nth(name: string, n: number, timeout = 15_000): Promise<PushRequest> {
    const signal = AbortSignal.timeout(timeout);
    while (this.for(name).length < n) {
      try {
        await once(this.events, 'request', { signal });
      } catch {
        throw new Error(`push service: no request #${n} for ${name} within ${timeout} ms (got ${this.for(name).length})`);
      }
    }
    return this.for(name)[n - 1];
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
