// What both SDK checks share: the sandbox's ready file, the export and
// password CSVs, a TOTP code generator, and the admin routes.
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';

export const ready = JSON.parse(readFileSync(process.env.SANDBOX_READY, 'utf8'));

// Generated data has no commas or quotes inside cells, so a plain split reads it.
export function readCsv(path) {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const names = header.replace(/^\uFEFF/, '').split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [names[i], cell])));
}

export const exportRows = () => readCsv(process.env.SANDBOX_EXPORT);
export const passwords = () => readCsv(process.env.SANDBOX_PASSWORDS);

// RFC 6238 with SHA-1, 6 digits, 30 s: what an authenticator app computes.
export function totp(secretBase32, unixSeconds = Math.floor(Date.now() / 1000)) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '')) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

// The sandbox's admin routes (no key, never counted).
export async function admin(method, path, body) {
  const response = await fetch(new URL(path, ready.admin_url), {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

// The Node major this run must be on (run.sh says which).
export function expectNodeMajor() {
  const expected = process.env.EXPECT_NODE_MAJOR;
  const actual = process.versions.node.split('.')[0];
  if (expected && expected !== actual) {
    throw new Error(`expected Node ${expected}, running ${process.versions.node}`);
  }
}
